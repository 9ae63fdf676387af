'use strict';
/**
 * Node.js client of the TinyTroupe Mesh.
 *
 * - Loads the mesh's contracts at run time (protos/ and third_party/ of the repository, or the folders
 *   named in MESH_PROTO_PATH) with @grpc/proto-loader: no generated code.
 * - Every call carries a deadline; only UNAVAILABLE is retried, by gRPC's own retry policy (service
 *   config), so a retried RunStudy is safe only because it carries a `request_id`.
 * - An optional bearer token travels as `authorization: Bearer <token>` metadata on every call.
 * - Rich errors: the `google.rpc.Status` of the `grpc-status-details-bin` trailer is decoded into its
 *   details (ErrorInfo, BadRequest, ...).
 * - Operations: the google.protobuf.Any metadata and response of a study's operation are unpacked into
 *   StudyProgress and StudyResult.
 */

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const DEFAULT_INCLUDE_DIRS = [path.join(REPO_ROOT, 'protos'), path.join(REPO_ROOT, 'third_party')];
const PROTO_FILES = [
  'tinytroupe/orchestrator/v1/orchestrator.proto',
  'google/longrunning/operations.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

/** Objects as the mesh's JSON speaks: proto field names, enum names, 64-bit integers as strings. */
const OBJECT_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

const DEFAULT_ADDRESS = '127.0.0.1:50050';
const DEFAULT_DEADLINE_MS = 30_000;
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const ERROR_DOMAIN = 'tinytroupe.io';
const ORCHESTRATOR_SERVICE = 'tinytroupe.orchestrator.v1.OrchestratorService';
const OPERATIONS_SERVICE = 'google.longrunning.Operations';
const STUDY_RESULT_TYPE = 'tinytroupe.orchestrator.v1.StudyResult';
const STUDY_PROGRESS_TYPE = 'tinytroupe.orchestrator.v1.StudyProgress';

/** gRPC's retry policy: UNAVAILABLE only, with backoff; nothing else is retried automatically. */
const RETRY_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: ORCHESTRATOR_SERVICE }, { service: OPERATIONS_SERVICE }],
      retryPolicy: {
        maxAttempts: 5,
        initialBackoff: '0.1s',
        maxBackoff: '2s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
};

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));

function includeDirs() {
  const fromEnv = process.env.MESH_PROTO_PATH;
  return fromEnv ? fromEnv.split(path.delimiter).filter(Boolean) : DEFAULT_INCLUDE_DIRS;
}

let loaded = null;

/**
 * The mesh's contracts: `grpcObject` (service constructors) and `root` (protobufjs types, to decode
 * status details and unpack Any values). Loaded once.
 */
function loadContracts(dirs = includeDirs()) {
  if (loaded && loaded.dirs.join('\n') === dirs.join('\n')) return loaded;
  const packageDefinition = protoLoader.loadSync(PROTO_FILES, { ...OBJECT_OPTIONS, includeDirs: dirs });
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  loaded = { dirs, grpcObject: grpc.loadPackageDefinition(packageDefinition), root };
  return loaded;
}

/** `type.googleapis.com/pkg.Message` → `pkg.Message`. */
function typeNameOf(typeUrl) {
  return String(typeUrl || '').slice(String(typeUrl || '').lastIndexOf('/') + 1);
}

/**
 * Unpacks a google.protobuf.Any (`{type_url, value}`) into a plain object of its type, with `@type`
 * set to the full type name. A type the contracts do not know comes back undecoded.
 */
function unpackAny(any, root = loadContracts().root) {
  if (!any || !any.type_url) return null;
  const typeName = typeNameOf(any.type_url);
  let type;
  try {
    type = root.lookupType(typeName);
  } catch {
    return { '@type': typeName, value_base64: Buffer.from(any.value || []).toString('base64') };
  }
  const message = type.decode(Buffer.from(any.value || []));
  return { '@type': typeName, ...type.toObject(message, OBJECT_OPTIONS) };
}

/** The `grpc-status-details-bin` bytes of an error, a Metadata, or the bytes themselves; else null. */
function statusDetailsBytes(source) {
  if (!source) return null;
  if (Buffer.isBuffer(source) || source instanceof Uint8Array) return Buffer.from(source);
  const metadata = source instanceof grpc.Metadata ? source : source.metadata;
  if (!metadata || typeof metadata.get !== 'function') return null;
  const values = metadata.get(STATUS_DETAILS_KEY);
  return values.length ? Buffer.from(values[0]) : null;
}

/**
 * Decodes the google.rpc.Status that the mesh sends in the `grpc-status-details-bin` trailer:
 * `{code, message, details: [unpacked Any, ...]}`, or null when the error carries none.
 */
function decodeStatus(source, root = loadContracts().root) {
  const bytes = statusDetailsBytes(source);
  if (!bytes) return null;
  const Status = root.lookupType('google.rpc.Status');
  const status = Status.toObject(Status.decode(bytes), OBJECT_OPTIONS);
  return { code: status.code, message: status.message, details: status.details.map((d) => unpackAny(d, root)) };
}

/**
 * A JSON-friendly description of a failed call (or of a google.rpc.Status object, as an operation's
 * `error` holds): code and its name, message, ErrorInfo, BadRequest field violations and the other
 * standard details.
 */
function describeError(errorOrStatus, root = loadContracts().root) {
  let code;
  let message;
  let details = [];
  if (errorOrStatus && Array.isArray(errorOrStatus.details) && !(errorOrStatus instanceof Error)) {
    // A google.rpc.Status as proto-loader decodes it (an operation's error): details are packed.
    code = errorOrStatus.code;
    message = errorOrStatus.message;
    details = errorOrStatus.details.map((d) => (d && d['@type'] ? d : unpackAny(d, root)));
  } else {
    const status = decodeStatus(errorOrStatus, root);
    code = errorOrStatus && errorOrStatus.code !== undefined ? errorOrStatus.code : status && status.code;
    message = (errorOrStatus && errorOrStatus.details) || (status && status.message) || String(errorOrStatus);
    details = status ? status.details : [];
  }
  const ofType = (name) => details.filter((d) => d && d['@type'] === `google.rpc.${name}`);
  const errorInfo = ofType('ErrorInfo')[0] || null;
  const description = {
    code,
    code_name: CODE_NAMES[code] || 'UNKNOWN',
    message,
    error_info: errorInfo && { reason: errorInfo.reason, domain: errorInfo.domain, metadata: errorInfo.metadata },
    field_violations: ofType('BadRequest').flatMap((b) =>
      b.field_violations.map((v) => ({ field: v.field, description: v.description }))),
    precondition_violations: ofType('PreconditionFailure').flatMap((p) => p.violations),
    resource_info: ofType('ResourceInfo')[0] || null,
    retry_info: ofType('RetryInfo')[0] || null,
    details,
  };
  return description;
}

/** Whether an error is the mesh's own (ErrorInfo domain `tinytroupe.io`) with the given reason. */
function hasReason(error, reason) {
  const info = describeError(error).error_info;
  return Boolean(info && info.domain === ERROR_DOMAIN && info.reason === reason);
}

/**
 * An operation as proto-loader decodes it → `{name, done, progress, result, error}` with the Any
 * metadata unpacked into a StudyProgress and the Any response into a StudyResult.
 */
function decodeOperation(operation, root = loadContracts().root) {
  const progress = operation.metadata ? unpackAny(operation.metadata, root) : null;
  const result = operation.response ? unpackAny(operation.response, root) : null;
  const error = operation.error ? describeError(operation.error, root) : null;
  return { name: operation.name, done: Boolean(operation.done), progress, result, error };
}

function durationMs(duration) {
  if (!duration) return 0;
  return Number(duration.seconds || 0) * 1000 + Math.round(Number(duration.nanos || 0) / 1e6);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Values that JSON files may write as in the seed's template (`focus_group`, `from_agent`). */
const ENUM_PREFIXES = {
  'participants.mode': 'MODE_',
  'simulation_config.environment_type': 'ENVIRONMENT_TYPE_',
  'simulation_config.turn_order': 'TURN_ORDER_',
  'extraction_config.mode': 'MODE_',
};

/** A RunStudy request with seed-style enum values spelled as the protos name them. */
function normalizeStudyRequest(request) {
  const copy = JSON.parse(JSON.stringify(request));
  for (const [fieldPath, prefix] of Object.entries(ENUM_PREFIXES)) {
    const [parent, field] = fieldPath.split('.');
    const value = copy[parent] && copy[parent][field];
    if (typeof value === 'string' && value && !value.startsWith(prefix)) {
      copy[parent][field] = prefix + value.toUpperCase();
    }
  }
  return copy;
}

class MeshClient {
  /**
   * @param {object} [options]
   * @param {string} [options.address] host:port of the orchestrator (`dns:///name:port` balances
   *   round-robin over all addresses of a headless Kubernetes Service).
   * @param {string} [options.token] bearer token sent as `authorization` metadata.
   * @param {number} [options.deadlineMs] default deadline of each unary call.
   * @param {Buffer} [options.rootCerts] PEM CA bundle: use TLS (with `tls: true` alone, the system's CAs).
   * @param {boolean} [options.tls] use TLS.
   * @param {object} [options.channelOptions] further gRPC channel options.
   */
  constructor(options = {}) {
    this.address = options.address || DEFAULT_ADDRESS;
    this.token = options.token || null;
    this.deadlineMs = options.deadlineMs || DEFAULT_DEADLINE_MS;
    const contracts = loadContracts(options.includeDirs);
    this.root = contracts.root;
    const credentials = options.tls || options.rootCerts
      ? grpc.credentials.createSsl(options.rootCerts || null)
      : grpc.credentials.createInsecure();
    const channelOptions = {
      'grpc.service_config': JSON.stringify(RETRY_SERVICE_CONFIG),
      'grpc.enable_retries': 1,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      ...(options.channelOptions || {}),
    };
    const { OrchestratorService } = contracts.grpcObject.tinytroupe.orchestrator.v1;
    const { Operations } = contracts.grpcObject.google.longrunning;
    this.orchestrator = new OrchestratorService(this.address, credentials, channelOptions);
    // The same server serves Operations; share the channel.
    this.operations = new Operations(this.address, credentials, {
      ...channelOptions,
      channelOverride: this.orchestrator.getChannel(),
    });
  }

  /** Metadata of one call: the bearer token and an `x-request-id` that the mesh's logs carry. */
  metadata(extra = {}) {
    const metadata = new grpc.Metadata();
    if (this.token) metadata.set('authorization', `Bearer ${this.token}`);
    metadata.set('x-request-id', extra['x-request-id'] || crypto.randomUUID());
    for (const [key, value] of Object.entries(extra)) {
      if (key !== 'x-request-id') metadata.set(key, value);
    }
    return metadata;
  }

  unary(client, method, request, { deadlineMs, metadata } = {}) {
    const deadline = new Date(Date.now() + (deadlineMs || this.deadlineMs));
    return new Promise((resolve, reject) => {
      client[method](request, this.metadata(metadata), { deadline }, (error, response) => {
        if (error) reject(error);
        else resolve(response);
      });
    });
  }

  /**
   * Starts a study; returns the decoded operation. A `request_id` is added when missing, so that the
   * automatic retry of UNAVAILABLE (and any retry of the caller) cannot start the study twice.
   */
  async runStudy(request, options = {}) {
    const body = normalizeStudyRequest(request);
    if (!body.request_id) body.request_id = crypto.randomUUID();
    const operation = await this.unary(this.orchestrator, 'RunStudy', body, options);
    return decodeOperation(operation, this.root);
  }

  async getOperation(name, options = {}) {
    return decodeOperation(await this.unary(this.operations, 'GetOperation', { name }, options), this.root);
  }

  /** Waits on the server up to `timeoutMs` for the operation to be done; returns it done or not. */
  async waitOperation(name, timeoutMs, options = {}) {
    const timeout = { seconds: String(Math.floor(timeoutMs / 1000)), nanos: (timeoutMs % 1000) * 1e6 };
    const deadlineMs = options.deadlineMs || timeoutMs + 10_000;
    const operation = await this.unary(this.operations, 'WaitOperation', { name, timeout }, { ...options, deadlineMs });
    return decodeOperation(operation, this.root);
  }

  async listOperations({ filter = '', pageSize = 50, pageToken = '' } = {}, options = {}) {
    const response = await this.unary(this.operations, 'ListOperations',
      { name: 'operations', filter, page_size: pageSize, page_token: pageToken }, options);
    return {
      operations: response.operations.map((op) => decodeOperation(op, this.root)),
      next_page_token: response.next_page_token,
    };
  }

  async cancelOperation(name, options = {}) {
    await this.unary(this.operations, 'CancelOperation', { name }, options);
  }

  /**
   * Streams a study's progress, calling `onProgress(progress)` for each event, until the study is
   * done. The stream's deadline covers the whole study. Resolves with the events received.
   */
  watchStudy(name, { onProgress = () => {}, deadlineMs = 600_000, metadata } = {}) {
    const deadline = new Date(Date.now() + deadlineMs);
    const events = [];
    return new Promise((resolve, reject) => {
      const call = this.orchestrator.WatchStudy({ name }, this.metadata(metadata), { deadline });
      call.on('data', (progress) => {
        events.push(progress);
        onProgress(progress);
      });
      call.on('error', reject);
      call.on('end', () => resolve(events));
    });
  }

  /**
   * Waits until the operation is done: WaitOperation in slices of `sliceMs`, falling back to polling
   * GetOperation every `pollMs` where the server does not implement WaitOperation.
   */
  async waitUntilDone(name, { timeoutMs = 600_000, sliceMs = 10_000, pollMs = 500 } = {}) {
    const end = Date.now() + timeoutMs;
    let poll = false;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) {
        const error = new Error(`operation ${name} not done after ${timeoutMs} ms`);
        error.code = grpc.status.DEADLINE_EXCEEDED;
        throw error;
      }
      let operation;
      if (!poll) {
        try {
          operation = await this.waitOperation(name, Math.max(1000, Math.min(sliceMs, left)));
        } catch (error) {
          if (error.code !== grpc.status.UNIMPLEMENTED) throw error;
          poll = true;
          continue;
        }
      } else {
        operation = await this.getOperation(name);
        if (!operation.done) await sleep(Math.min(pollMs, left));
      }
      if (operation.done) return operation;
    }
  }

  close() {
    this.operations.close();
    this.orchestrator.close();
  }
}

module.exports = {
  DEFAULT_ADDRESS,
  DEFAULT_DEADLINE_MS,
  ERROR_DOMAIN,
  RETRY_SERVICE_CONFIG,
  STATUS_DETAILS_KEY,
  STUDY_PROGRESS_TYPE,
  STUDY_RESULT_TYPE,
  MeshClient,
  decodeOperation,
  decodeStatus,
  describeError,
  durationMs,
  hasReason,
  loadContracts,
  normalizeStudyRequest,
  unpackAny,
};
