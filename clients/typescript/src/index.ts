// The client and the generated types a backend needs to build requests and read results.
export * from "./mesh";
export {
  EnvironmentType,
  ExtractionConfig,
  FieldStatistics,
  ParticipantCounts,
  SimulationConfig,
  Stimulus,
  TurnOrder,
  ValueKind,
} from "./gen/tinytroupe/common/v1/study";
export {
  OrchestratorServiceClient,
  Participants,
  Participants_Mode,
  Phase,
  RunStudyRequest,
  StudyProgress,
  StudyResult,
  StudyStatus,
} from "./gen/tinytroupe/orchestrator/v1/orchestrator";
export { OperationsClient } from "./gen/google/longrunning/operations";
