#!/usr/bin/env node
/**
 * Runs a whole study through the mesh's orchestrator and prints a JSON summary on stdout.
 *
 *   node dist/run-study.js [--address HOST:PORT] [--request FILE.json] [--token TOKEN] [--ca CA.pem]
 *                          [--timeout-s 600] [--deadline-ms 30000] [--quiet]
 *
 * RunStudy (the request from FILE.json in protobuf's JSON form, or the built-in focus group), then
 * WatchStudy printing each progress event on stderr, then WaitOperation until the operation is done;
 * the StudyResult is unpacked from the operation's response. Exit status: 0 when the study completed
 * (or ran partially), 1 when it failed, 2 when a call failed.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EnvironmentType, type FieldStatistics, ValueKind } from "./gen/tinytroupe/common/v1/study";
import {
  type DeepPartial,
  Participants_Mode,
  Phase,
  RunStudyRequest,
  type StudyProgress,
  StudyStatus,
} from "./gen/tinytroupe/orchestrator/v1/orchestrator";
import { DEFAULT_ADDRESS, describeError, MeshClient, type StudyOperation } from "./mesh";

const PERSONAS = [
  { name: "Ana Costa", age: 34, residence: "Lisbon", occupation: { title: "Nurse" } },
  { name: "Kenji Ito", age: 41, residence: "Osaka", occupation: { title: "Software engineer" } },
  { name: "Maria Lopez", age: 58, residence: "Mexico City", occupation: { title: "Small business owner" } },
];

/** The built-in study: a two-round focus group on a product concept, with three extracted fields. */
export function focusGroup(): DeepPartial<RunStudyRequest> {
  return {
    sessionConfig: { sessionName: "typescript-client focus group", labels: { client: "typescript" } },
    participants: {
      mode: Participants_Mode.MODE_FROM_AGENT,
      specifications: PERSONAS.map((persona) => JSON.stringify({ type: "TinyPerson", persona })),
      context: "Consumers asked about a new product",
    },
    simulationConfig: { environmentType: EnvironmentType.ENVIRONMENT_TYPE_FOCUS_GROUP, rounds: 2, broadcastMode: true },
    stimulus: {
      type: "product_concept",
      content: "FreshBox: a weekly box of pre-portioned ingredients and recipes for 5 dinners, 59 EUR a week.",
    },
    extractionConfig: {
      extractResults: true,
      fields: ["purchase_intent", "rating", "concerns"],
      fieldsHints: { purchase_intent: "one of yes/no/maybe", rating: "integer 1-10", concerns: "list of short phrases" },
      statisticalAnalysis: true,
    },
  };
}

function statistics(fields: FieldStatistics[]) {
  return Object.fromEntries(fields.map((stats) => [stats.field, {
    kind: ValueKind[stats.kind],
    usableCount: stats.usableCount,
    totalCount: stats.totalCount,
    numeric: stats.numeric,
    counts: stats.counts,
  }]));
}

/** The JSON summary of a finished study operation. */
export function summarize(operation: StudyOperation, events: StudyProgress[]) {
  const phases = events.map((e) => Phase[e.phase]).filter((phase, i, all) => i === 0 || phase !== all[i - 1]);
  const summary = { operation: operation.name, done: operation.done, progressEvents: events.length, phases };
  if (operation.error) return { ...summary, status: "STUDY_STATUS_FAILED", error: operation.error };
  const result = operation.result;
  const extracted = result?.extractedResults;
  const executionTime = result?.metadata?.executionTime;
  return {
    ...summary,
    sessionId: result?.sessionId,
    status: StudyStatus[result?.status ?? StudyStatus.STUDY_STATUS_UNSPECIFIED],
    participants: { total: result?.participants?.total, successful: result?.participants?.successful,
                    failed: result?.participants?.failed },
    roundsCompleted: result?.simulationResults?.roundsCompleted,
    totalInteractions: result?.simulationResults?.totalInteractions,
    individualResults: extracted?.individualResults.length ?? 0,
    statistics: statistics(extracted?.aggregateStatistics ?? []),
    qualityScore: result?.metadata?.qualityScore,
    executionTimeS: executionTime ? executionTime.seconds + executionTime.nanos / 1e9 : 0,
  };
}

function describeProgress(progress: StudyProgress): string {
  const round = progress.roundsTotal ? ` round ${progress.round}/${progress.roundsTotal}` : "";
  const agents = progress.agentsTotal ? ` agents ${progress.agentsDone}/${progress.agentsTotal}` : "";
  return `[${Phase[progress.phase]}]${round}${agents} ${progress.message}`.trimEnd();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      address: { type: "string", default: process.env.MESH_ADDRESS ?? DEFAULT_ADDRESS },
      request: { type: "string" },
      token: { type: "string", default: process.env.MESH_TOKEN ?? "" },
      ca: { type: "string" },
      "timeout-s": { type: "string", default: "600" },
      "deadline-ms": { type: "string", default: "30000" },
      quiet: { type: "boolean", default: false },
    },
  });
  const file = values.request ?? positionals[0];
  const request = file ? RunStudyRequest.fromJSON(JSON.parse(readFileSync(file, "utf8"))) : focusGroup();
  const client = new MeshClient({
    address: values.address,
    token: values.token || undefined,
    rootCerts: values.ca ? readFileSync(values.ca) : undefined,
    deadlineMs: Number(values["deadline-ms"]),
  });
  const timeoutMs = Number(values["timeout-s"]) * 1000;
  const log = values.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  try {
    const started = await client.runStudy(request);
    log(`started ${started.name}`);
    let events: StudyProgress[] = [];
    if (!started.done) {
      try {
        events = await client.watchStudy(started.name, {
          deadlineMs: timeoutMs,
          onProgress: (progress) => log(describeProgress(progress)),
        });
      } catch (error) {
        // The operation still tells the outcome: a broken stream is not a failed study.
        const { codeName, message } = describeError(error);
        log(`watch ended: ${codeName} ${message}`);
      }
    }
    const operation = await client.waitUntilDone(started.name, { timeoutMs });
    const summary = summarize(operation, events);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = summary.status === "STUDY_STATUS_FAILED" ? 1 : 0;
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: describeError(error) }, null, 2)}\n`);
    process.exitCode = 2;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  void main();
}
