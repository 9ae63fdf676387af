// A TypeScript backend calling the mesh: stubs from `buf generate` (gen/ts), transport from
// @connectrpc/connect-node speaking gRPC. Type-checked by `npm run typecheck` once gen/ts exists.
import { create } from "@bufbuild/protobuf";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Operations } from "../../../gen/ts/google/longrunning/operations_pb";
import { BadRequestSchema, ErrorInfoSchema } from "../../../gen/ts/google/rpc/error_details_pb";
import { EnvironmentType } from "../../../gen/ts/tinytroupe/common/v1/study_pb";
import {
  OrchestratorService,
  Participants_Mode,
  Phase,
  RunStudyRequestSchema,
  StudyResultSchema,
  StudyStatus,
} from "../../../gen/ts/tinytroupe/orchestrator/v1/orchestrator_pb";

const token = process.env.MESH_TOKEN;
const bearer: Interceptor = (next) => async (req) => {
  if (token) req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const transport = createGrpcTransport({
  baseUrl: `http://${process.env.MESH_ADDRESS ?? "127.0.0.1:50050"}`,
  defaultTimeoutMs: 30_000, // every call has a deadline
  interceptors: [bearer],
});
const orchestrator = createClient(OrchestratorService, transport);
const operations = createClient(Operations, transport);

/** Retries UNAVAILABLE only (connect has no service-config retries): other codes are final. */
async function unavailableRetried<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retry = error instanceof ConnectError && error.code === Code.Unavailable && attempt < attempts;
      if (!retry) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

async function main(): Promise<void> {
  const request = create(RunStudyRequestSchema, {
    requestId: crypto.randomUUID(), // the same id again returns the same operation
    participants: {
      mode: Participants_Mode.FROM_AGENT,
      specifications: [JSON.stringify({ type: "TinyPerson", persona: { name: "Ana Costa", age: 34 } })],
    },
    simulationConfig: { environmentType: EnvironmentType.FOCUS_GROUP, rounds: 2 },
    stimulus: { type: "product_concept", content: "FreshBox: five dinners a week for 59 EUR." },
    extractionConfig: {
      extractResults: true,
      fields: ["rating"],
      fieldsHints: { rating: "integer 1-10" },
      statisticalAnalysis: true,
    },
  });
  try {
    let operation = await unavailableRetried(() => orchestrator.runStudy(request));
    for await (const progress of orchestrator.watchStudy({ name: operation.name }, { timeoutMs: 600_000 })) {
      console.error(`${Phase[progress.phase]} round ${progress.round}/${progress.roundsTotal} ${progress.message}`);
    }
    while (!operation.done) {
      const name = operation.name;
      operation = await unavailableRetried(() =>
        operations.waitOperation({ name, timeout: durationFromMs(10_000) }, { timeoutMs: 20_000 }));
    }
    if (operation.result.case === "error") {
      // The study ran and failed: a google.rpc.Status, not an RPC error.
      const status = operation.result.value;
      console.error(`study failed: ${Code[status.code]} ${status.message}`);
      process.exitCode = 1;
      return;
    }
    if (operation.result.case !== "response") throw new Error("operation done without a result");
    const result = anyUnpack(operation.result.value, StudyResultSchema);
    console.log(StudyStatus[result?.status ?? 0], result?.participants?.total, result?.extractedResults?.aggregateStatistics);
  } catch (error) {
    const failure = ConnectError.from(error);
    const info = failure.findDetails(ErrorInfoSchema)[0];
    const violations = failure.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations);
    console.error(Code[failure.code], info?.reason, info?.domain, violations.map((v) => `${v.field}: ${v.description}`));
    process.exitCode = 1;
  }
}

void main();
