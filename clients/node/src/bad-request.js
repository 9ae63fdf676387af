#!/usr/bin/env node
'use strict';
/**
 * Sends an invalid RunStudy and prints the decoded rich error as JSON on stdout: the status code, the
 * ErrorInfo (reason, domain) and the BadRequest field violations of its google.rpc.Status details.
 *
 *   node src/bad-request.js [--address HOST:PORT] [--token TOKEN] [--invalid mode|rounds]
 *
 * `--invalid mode` (default) leaves `participants.mode` unspecified; `--invalid rounds` asks for 0
 * rounds. Exit status: 0 when the mesh refused the request with details, 1 when it accepted it.
 */

const { parseArgs } = require('node:util');
const { MeshClient, DEFAULT_ADDRESS, describeError } = require('./mesh');
const { defaultRequest } = require('./run-study');

function invalidRequest(which) {
  const request = defaultRequest();
  if (which === 'rounds') request.simulation_config.rounds = 0;
  else if (which === 'mode') request.participants.mode = 'MODE_UNSPECIFIED';
  else throw new Error(`--invalid must be mode or rounds, not ${which}`);
  return request;
}

const USAGE = `usage: node src/bad-request.js [--address HOST:PORT] [--token TOKEN] [--invalid mode|rounds]

Sends an invalid RunStudy and prints the decoded rich error as JSON on stdout.

options:
  --address HOST:PORT   the orchestrator (default: $MESH_ADDRESS or ${DEFAULT_ADDRESS})
  --token TOKEN         bearer token of your tenant (default: $MESH_TOKEN)
  --invalid mode|rounds leave participants.mode unspecified (default), or ask for 0 rounds
  --deadline-ms MS      deadline of the call (default 10000)
  -h, --help            this text`;

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        address: { type: 'string', default: process.env.MESH_ADDRESS || DEFAULT_ADDRESS },
        token: { type: 'string', default: process.env.MESH_TOKEN || '' },
        invalid: { type: 'string', default: 'mode' },
        'deadline-ms': { type: 'string', default: '10000' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
    if (!values.help) invalidRequest(values.invalid);
  } catch (error) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const client = new MeshClient({
    address: values.address,
    token: values.token || undefined,
    deadlineMs: Number(values['deadline-ms']),
  });
  try {
    const operation = await client.runStudy(invalidRequest(values.invalid));
    process.stdout.write(`${JSON.stringify({ accepted: true, operation: operation.name }, null, 2)}\n`);
    process.exitCode = 1;
  } catch (error) {
    const { code, code_name, message, error_info, field_violations } = describeError(error);
    process.stdout.write(`${JSON.stringify({ code, code_name, message, error_info, field_violations }, null, 2)}\n`);
    process.exitCode = error_info || field_violations.length ? 0 : 1;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  main();
}

module.exports = { invalidRequest };
