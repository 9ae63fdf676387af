#!/usr/bin/env node
/**
 * Sends an invalid RunStudy and prints the decoded rich error as JSON on stdout: the status code, the
 * ErrorInfo (reason, domain) and the BadRequest field violations of its google.rpc.Status details.
 *
 *   node dist/bad-request.js [--address HOST:PORT] [--token TOKEN] [--invalid mode|rounds]
 *
 * `--invalid mode` (default) leaves `participants.mode` unspecified; `--invalid rounds` asks for 0
 * rounds. Exit status: 0 when the mesh refused the request with details, 1 when it accepted it.
 */
import { parseArgs } from "node:util";
import { Participants_Mode } from "./gen/tinytroupe/orchestrator/v1/orchestrator";
import { DEFAULT_ADDRESS, describeError, MeshClient } from "./mesh";
import { focusGroup } from "./run-study";

export function invalidRequest(which: string) {
  const request = focusGroup();
  if (which === "rounds") request.simulationConfig = { ...request.simulationConfig, rounds: 0 };
  else if (which === "mode") request.participants = { ...request.participants, mode: Participants_Mode.MODE_UNSPECIFIED };
  else throw new Error(`--invalid must be mode or rounds, not ${which}`);
  return request;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: "string", default: process.env.MESH_ADDRESS ?? DEFAULT_ADDRESS },
      token: { type: "string", default: process.env.MESH_TOKEN ?? "" },
      invalid: { type: "string", default: "mode" },
      "deadline-ms": { type: "string", default: "10000" },
    },
  });
  const client = new MeshClient({
    address: values.address,
    token: values.token || undefined,
    deadlineMs: Number(values["deadline-ms"]),
  });
  try {
    const operation = await client.runStudy(invalidRequest(values.invalid));
    process.stdout.write(`${JSON.stringify({ accepted: true, operation: operation.name }, null, 2)}\n`);
    process.exitCode = 1;
  } catch (error) {
    const { code, codeName, message, errorInfo, fieldViolations } = describeError(error);
    process.stdout.write(`${JSON.stringify({ code, codeName, message, errorInfo, fieldViolations }, null, 2)}\n`);
    process.exitCode = errorInfo || fieldViolations.length ? 0 : 1;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  void main();
}
