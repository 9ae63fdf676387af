'use strict';
// Unit tests of the client library: rich error details, Any unpacking, and the calls against an
// in-process grpc-js server that speaks the orchestrator's contracts.

const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const mesh = require('../src/mesh');
const { defaultRequest, summarize } = require('../src/run-study');
const { invalidRequest } = require('../src/bad-request');

const { root, grpcObject } = mesh.loadContracts();

function pack(typeName, object) {
  const type = root.lookupType(typeName);
  return { type_url: `type.googleapis.com/${typeName}`, value: Buffer.from(type.encode(type.fromObject(object)).finish()) };
}

function statusBytes(code, message, details) {
  const Status = root.lookupType('google.rpc.Status');
  return Buffer.from(Status.encode(Status.fromObject({ code, message, details })).finish());
}

const BAD_MODE = [
  pack('google.rpc.ErrorInfo', { reason: 'INVALID_ARGUMENT', domain: 'tinytroupe.io', metadata: { field: 'participants.mode' } }),
  pack('google.rpc.BadRequest', {
    field_violations: [
      { field: 'participants.mode', description: 'must be set' },
      { field: 'simulation_config.rounds', description: 'must be between 1 and 50' },
    ],
  }),
];

test('decodeStatus unpacks ErrorInfo and BadRequest from the trailer bytes', () => {
  const status = mesh.decodeStatus(statusBytes(3, 'invalid request', BAD_MODE));
  assert.equal(status.code, 3);
  assert.equal(status.message, 'invalid request');
  assert.deepEqual(status.details.map((d) => d['@type']), ['google.rpc.ErrorInfo', 'google.rpc.BadRequest']);
  assert.equal(status.details[0].metadata.field, 'participants.mode');
  assert.equal(status.details[1].field_violations[1].field, 'simulation_config.rounds');
});

test('describeError reads the grpc-status-details-bin metadata of a failed call', () => {
  const metadata = new grpc.Metadata();
  metadata.set(mesh.STATUS_DETAILS_KEY, statusBytes(3, 'invalid request', BAD_MODE));
  const error = Object.assign(new Error('3 INVALID_ARGUMENT: invalid request'),
    { code: grpc.status.INVALID_ARGUMENT, details: 'invalid request', metadata });
  const described = mesh.describeError(error);
  assert.equal(described.code_name, 'INVALID_ARGUMENT');
  assert.equal(described.message, 'invalid request');
  assert.deepEqual(described.error_info, { reason: 'INVALID_ARGUMENT', domain: 'tinytroupe.io', metadata: { field: 'participants.mode' } });
  assert.deepEqual(described.field_violations.map((v) => v.field), ['participants.mode', 'simulation_config.rounds']);
  assert.ok(mesh.hasReason(error, 'INVALID_ARGUMENT'));
  assert.ok(!mesh.hasReason(error, 'NOT_FOUND'));
});

test('describeError without details keeps the code and message', () => {
  const error = Object.assign(new Error('14 UNAVAILABLE: no connection'),
    { code: grpc.status.UNAVAILABLE, details: 'no connection', metadata: new grpc.Metadata() });
  const described = mesh.describeError(error);
  assert.equal(described.code_name, 'UNAVAILABLE');
  assert.equal(described.error_info, null);
  assert.deepEqual(described.field_violations, []);
});

test('describeError reads an operation error and the other standard details', () => {
  const described = mesh.describeError({
    code: 9,
    message: 'the session is closed',
    details: [
      pack('google.rpc.PreconditionFailure', { violations: [{ type: 'SESSION_STATE', subject: 'sessions/s1', description: 'closed' }] }),
      pack('google.rpc.ResourceInfo', { resource_type: 'session', resource_name: 'sessions/s1' }),
    ],
  });
  assert.equal(described.code_name, 'FAILED_PRECONDITION');
  assert.equal(described.precondition_violations[0].subject, 'sessions/s1');
  assert.equal(described.resource_info.resource_name, 'sessions/s1');
});

test('unpackAny leaves an unknown type undecoded', () => {
  const unknown = mesh.unpackAny({ type_url: 'type.googleapis.com/acme.v1.Unknown', value: Buffer.from([8, 1]) });
  assert.deepEqual(unknown, { '@type': 'acme.v1.Unknown', value_base64: 'CAE=' });
  assert.equal(mesh.unpackAny(null), null);
});

function studyResult() {
  return {
    operation_id: 'operations/s1',
    session_id: 'sessions/s1',
    status: 'STUDY_STATUS_COMPLETED',
    participants: { total: 3, successful: 3, failed: 0 },
    simulation_results: { rounds_completed: 2, total_interactions: 9 },
    extracted_results: {
      individual_results: [{ agent_name: 'Ana Costa' }, { agent_name: 'Kenji Ito' }, { agent_name: 'Maria Lopez' }],
      aggregate_statistics: [
        { field: 'rating', kind: 'VALUE_KIND_NUMBER', usable_count: 3, total_count: 3, numeric: { count: 3, mean: 7 } },
        { field: 'purchase_intent', kind: 'VALUE_KIND_CATEGORY', usable_count: 3, total_count: 3,
          counts: [{ value: 'yes', count: 2, share: 2 / 3 }, { value: 'maybe', count: 1, share: 1 / 3 }] },
      ],
      statistical_analysis: { sample_size: 3, confidence_level: 0.95 },
    },
    metadata: { execution_time: { seconds: 1, nanos: 500_000_000 }, quality_score: 0.8, checkpoints: ['agents_created'] },
  };
}

test('decodeOperation unpacks StudyProgress metadata and StudyResult response', () => {
  const operation = mesh.decodeOperation({
    name: 'operations/s1',
    done: true,
    metadata: pack(mesh.STUDY_PROGRESS_TYPE, { operation: 'operations/s1', phase: 'PHASE_DONE', round: 2, rounds_total: 2 }),
    response: pack(mesh.STUDY_RESULT_TYPE, studyResult()),
    error: null,
  });
  assert.equal(operation.progress.phase, 'PHASE_DONE');
  assert.equal(operation.result['@type'], mesh.STUDY_RESULT_TYPE);
  assert.equal(operation.result.participants.total, 3);
  const summary = summarize(operation, []);
  assert.equal(summary.status, 'STUDY_STATUS_COMPLETED');
  assert.equal(summary.rounds_completed, 2);
  assert.equal(summary.execution_time_s, 1.5);
  assert.deepEqual(Object.keys(summary.statistics).sort(), ['purchase_intent', 'rating']);
  assert.equal(summary.statistics.rating.numeric.mean, 7);
});

test('normalizeStudyRequest accepts the seed template spelling of enums', () => {
  const request = mesh.normalizeStudyRequest({
    participants: { mode: 'from_demographics' },
    simulation_config: { environment_type: 'focus_group' },
    extraction_config: { mode: 'MODE_PER_AGENT' },
  });
  assert.equal(request.participants.mode, 'MODE_FROM_DEMOGRAPHICS');
  assert.equal(request.simulation_config.environment_type, 'ENVIRONMENT_TYPE_FOCUS_GROUP');
  assert.equal(request.extraction_config.mode, 'MODE_PER_AGENT');
});

test('the invalid requests break exactly the field they name', () => {
  assert.equal(invalidRequest('mode').participants.mode, 'MODE_UNSPECIFIED');
  assert.equal(invalidRequest('mode').simulation_config.rounds, defaultRequest().simulation_config.rounds);
  assert.equal(invalidRequest('rounds').simulation_config.rounds, 0);
  assert.throws(() => invalidRequest('stimulus'));
});

/** A grpc-js server with the orchestrator's and the operations' contracts, answering from memory. */
async function startServer(seen) {
  const server = new grpc.Server();
  let polls = 0;
  const operation = (done) => ({
    name: 'operations/s1',
    done,
    metadata: pack(mesh.STUDY_PROGRESS_TYPE, { operation: 'operations/s1', phase: done ? 'PHASE_DONE' : 'PHASE_SIMULATING' }),
    response: done ? pack(mesh.STUDY_RESULT_TYPE, studyResult()) : undefined,
  });
  server.addService(grpcObject.tinytroupe.orchestrator.v1.OrchestratorService.service, {
    RunStudy(call, callback) {
      seen.push({ method: 'RunStudy', metadata: call.metadata.getMap(), request: call.request, deadline: call.getDeadline() });
      if (call.request.participants.mode === 'MODE_UNSPECIFIED') {
        const metadata = new grpc.Metadata();
        metadata.set(mesh.STATUS_DETAILS_KEY, statusBytes(3, 'participants.mode: must be set', BAD_MODE));
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'participants.mode: must be set', metadata });
        return;
      }
      callback(null, operation(false));
    },
    WatchStudy(call) {
      for (const round of [1, 2]) {
        call.write({ operation: call.request.name, phase: 'PHASE_SIMULATING', round, rounds_total: 2 });
      }
      call.end();
    },
    ResumeStudy(call, callback) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'not here' });
    },
  });
  server.addService(grpcObject.google.longrunning.Operations.service, {
    GetOperation(call, callback) {
      polls += 1;
      callback(null, operation(polls >= 2));
    },
    WaitOperation(call, callback) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'poll instead' });
    },
    ListOperations(call, callback) {
      callback(null, { operations: [operation(true)], next_page_token: '' });
    },
    CancelOperation(call, callback) {
      callback(null, {});
    },
    DeleteOperation(call, callback) {
      callback(null, {});
    },
  });
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { server, address: `127.0.0.1:${port}` };
}

test('a study and a refused request against an in-process server', async () => {
  const seen = [];
  const { server, address } = await startServer(seen);
  const client = new mesh.MeshClient({ address, token: 'secret-token', deadlineMs: 5000 });
  try {
    const started = await client.runStudy({ ...defaultRequest(), participants: { ...defaultRequest().participants, mode: 'from_agent' } });
    assert.equal(started.name, 'operations/s1');
    assert.equal(started.progress.phase, 'PHASE_SIMULATING');
    const call = seen[0];
    assert.equal(call.metadata.authorization, 'Bearer secret-token');
    assert.match(String(call.metadata['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.match(call.request.request_id, /^[0-9a-f-]{36}$/, 'a request_id is added for idempotent retries');
    assert.equal(call.request.participants.mode, 'MODE_FROM_AGENT');
    assert.ok(Number.isFinite(call.deadline.valueOf()) && call.deadline.valueOf() > Date.now(), 'every call has a deadline');

    const events = await client.watchStudy(started.name, { deadlineMs: 5000 });
    assert.deepEqual(events.map((e) => e.round), [1, 2]);
    const done = await client.waitUntilDone(started.name, { timeoutMs: 5000, pollMs: 10 });
    assert.equal(done.result.status, 'STUDY_STATUS_COMPLETED');
    const listed = await client.listOperations();
    assert.equal(listed.operations[0].result.simulation_results.rounds_completed, 2);

    await assert.rejects(client.runStudy(invalidRequest('mode')), (error) => {
      const described = mesh.describeError(error);
      assert.equal(described.code_name, 'INVALID_ARGUMENT');
      assert.equal(described.error_info.domain, 'tinytroupe.io');
      assert.ok(described.field_violations.some((v) => v.field === 'participants.mode'));
      return true;
    });
  } finally {
    client.close();
    server.forceShutdown();
  }
});
