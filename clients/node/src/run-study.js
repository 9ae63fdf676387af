#!/usr/bin/env node
'use strict';
/**
 * Runs a whole study through the mesh's orchestrator and prints a JSON summary on stdout.
 *
 *   node src/run-study.js [--address HOST:PORT] [--token TOKEN] [--ca CA.pem] [--timeout-s 600]
 *                         [--deadline-ms 30000] [--quiet] [--no-watch] [FILE.json | --request FILE.json]
 *
 * RunStudy (the study file FILE.json, read as `troupe run` reads it: src/study-file.js; or the built-in
 * focus group), then WatchStudy printing each progress event on stderr, then WaitOperation (GetOperation
 * polling where unavailable) until the operation is done; the StudyResult is unpacked from the
 * operation's response. Exit status: 0 when the study completed (or ran partially), 1 when it failed,
 * 2 when a call failed or the command line or study file is wrong.
 */

const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { MeshClient, DEFAULT_ADDRESS, describeError, durationMs } = require('./mesh');
const { StudyFileError, loadStudyFile } = require('./study-file');

const USAGE = `usage: node src/run-study.js [options] [FILE.json]

Runs a study through the mesh's orchestrator and prints a JSON summary on stdout (progress on stderr).
FILE.json is a study file as \`troupe run\` reads it (e.g. ../../examples/focus_group.json); without one,
a built-in focus group runs.

options:
  --address HOST:PORT   the orchestrator (default: $MESH_ADDRESS or ${DEFAULT_ADDRESS})
  --request FILE.json   the study file (the same as the argument)
  --token TOKEN         bearer token of your tenant (default: $MESH_TOKEN)
  --ca CA.pem           speak TLS, trusting this CA
  --timeout-s S         how long to wait for the study (default 600)
  --deadline-ms MS      deadline of each call (default 30000)
  --quiet               no progress on stderr
  --no-watch            do not stream the progress, only wait for the result
  -h, --help            this text`;

/** Three TinyTroupe persona specs, small enough to read (a spec file holds exactly this JSON). */
const PERSONAS = [
  { name: 'Ana Costa', age: 34, gender: 'female', nationality: 'Portuguese', residence: 'Lisbon',
    occupation: { title: 'Nurse', organization: 'Hospital de Santa Maria', description: 'Works night shifts.' },
    personality: { traits: ['practical', 'caring'] }, preferences: { interests: ['cooking', 'running'] } },
  { name: 'Kenji Ito', age: 41, gender: 'male', nationality: 'Japanese', residence: 'Osaka',
    occupation: { title: 'Software engineer', organization: 'A logistics firm', description: 'Builds routing tools.' },
    personality: { traits: ['analytical', 'frugal'] }, preferences: { interests: ['cycling', 'gadgets'] } },
  { name: 'Maria Lopez', age: 58, gender: 'female', nationality: 'Mexican', residence: 'Mexico City',
    occupation: { title: 'Small business owner', organization: 'A family bakery', description: 'Runs the shop.' },
    personality: { traits: ['outgoing', 'skeptical'] }, preferences: { interests: ['gardening', 'family'] } },
];

/** The built-in study: a two-round focus group on a product concept, with three extracted fields. */
function defaultRequest() {
  return {
    session_config: {
      session_name: 'node-client focus group',
      description: 'Reactions to a meal-kit subscription, run by the Node.js client',
      labels: { client: 'node' },
    },
    participants: {
      mode: 'MODE_FROM_AGENT',
      specifications: PERSONAS.map((persona) => JSON.stringify({ type: 'TinyPerson', persona })),
      context: 'Consumers asked about a new product',
    },
    simulation_config: {
      environment_type: 'ENVIRONMENT_TYPE_FOCUS_GROUP',
      rounds: 2,
      enable_memory: true,
      enable_thinking: true,
      broadcast_mode: true,
    },
    stimulus: {
      type: 'product_concept',
      content: 'FreshBox: a weekly box of pre-portioned ingredients and recipes for 5 dinners, 59 EUR a week.',
      context: 'You are taking part in a focus group about a new product. Say what you honestly think.',
    },
    extraction_config: {
      extract_results: true,
      extraction_objective: "Find each participant's purchase intent, rating and concerns about FreshBox",
      fields: ['purchase_intent', 'rating', 'concerns'],
      fields_hints: {
        purchase_intent: 'one of yes/no/maybe',
        rating: 'integer 1-10',
        concerns: 'list of short phrases',
      },
      statistical_analysis: true,
    },
  };
}

/** The command line's options, or null after printing the usage (for --help, or with what is wrong). */
function options(args = process.argv.slice(2)) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        address: { type: 'string', default: process.env.MESH_ADDRESS || DEFAULT_ADDRESS },
        request: { type: 'string' },
        token: { type: 'string', default: process.env.MESH_TOKEN || '' },
        ca: { type: 'string' },
        'timeout-s': { type: 'string', default: '600' },
        'deadline-ms': { type: 'string', default: '30000' },
        quiet: { type: 'boolean', default: false },
        'no-watch': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return null;
  }
  if (positionals.length > 1 || (positionals.length && values.request)) {
    return usageError('give one study file');
  }
  for (const name of ['timeout-s', 'deadline-ms']) {
    if (!(Number(values[name]) > 0)) return usageError(`--${name} must be a positive number`);
  }
  return { ...values, request: values.request || positionals[0] };
}

function usageError(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exitCode = 2;
  return null;
}

function statistics(extracted) {
  const byField = {};
  for (const stats of (extracted && extracted.aggregate_statistics) || []) {
    byField[stats.field] = {
      kind: stats.kind,
      usable_count: stats.usable_count,
      total_count: stats.total_count,
      numeric: stats.numeric,
      counts: stats.counts,
    };
  }
  return byField;
}

/** The JSON summary of a finished study operation. */
function summarize(operation, events) {
  const phases = events.map((e) => e.phase).filter((phase, i, all) => i === 0 || phase !== all[i - 1]);
  const summary = { operation: operation.name, done: operation.done, progress_events: events.length, phases };
  if (operation.error) return { ...summary, status: 'STUDY_STATUS_FAILED', error: operation.error };
  const result = operation.result || {};
  const simulation = result.simulation_results || {};
  const extracted = result.extracted_results || {};
  const metadata = result.metadata || {};
  return {
    ...summary,
    session_id: result.session_id,
    status: result.status,
    participants: result.participants,
    rounds_completed: simulation.rounds_completed,
    total_interactions: simulation.total_interactions,
    individual_results: (extracted.individual_results || []).length,
    statistics: statistics(extracted),
    statistical_analysis: extracted.statistical_analysis,
    quality_score: metadata.quality_score,
    checkpoints: metadata.checkpoints,
    execution_time_s: durationMs(metadata.execution_time) / 1000,
    token_usage: metadata.token_usage,
  };
}

function describeProgress(progress) {
  const round = progress.rounds_total ? ` round ${progress.round}/${progress.rounds_total}` : '';
  const agents = progress.agents_total ? ` agents ${progress.agents_done}/${progress.agents_total}` : '';
  return `[${progress.phase}]${round}${agents} ${progress.message || ''}`.trimEnd();
}

async function main() {
  const opts = options();
  if (!opts) return;
  let request;
  try {
    request = opts.request ? loadStudyFile(opts.request) : defaultRequest();
  } catch (error) {
    if (!(error instanceof StudyFileError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  const client = new MeshClient({
    address: opts.address,
    token: opts.token || undefined,
    rootCerts: opts.ca ? fs.readFileSync(opts.ca) : undefined,
    deadlineMs: Number(opts['deadline-ms']),
  });
  const timeoutMs = Number(opts['timeout-s']) * 1000;
  const log = opts.quiet ? () => {} : (line) => process.stderr.write(`${line}\n`);
  try {
    const started = await client.runStudy(request);
    log(`started ${started.name}`);
    let events = [];
    if (!opts['no-watch'] && !started.done) {
      try {
        events = await client.watchStudy(started.name, {
          deadlineMs: timeoutMs,
          onProgress: (progress) => log(describeProgress(progress)),
        });
      } catch (error) {
        // The operation still tells the outcome: a broken stream is not a failed study.
        log(`watch ended: ${describeError(error).code_name} ${error.details || error.message}`);
      }
    }
    const operation = await client.waitUntilDone(started.name, { timeoutMs });
    const summary = summarize(operation, events);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = summary.status === 'STUDY_STATUS_FAILED' ? 1 : 0;
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ error: describeError(error) }, null, 2)}\n`);
    process.exitCode = 2;
  } finally {
    client.close();
  }
}

if (require.main === module) {
  main();
}

module.exports = { USAGE, defaultRequest, options, summarize };
