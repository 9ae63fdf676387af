/**
 * Typed TypeScript client of the TinyTroupe Mesh, on the stubs that ts-proto generates from protos/
 * for @grpc/grpc-js (src/gen, made by `npm run generate`).
 *
 * - Every call carries a deadline; only UNAVAILABLE is retried, by gRPC's own retry policy (service
 *   config), so a retried RunStudy is safe only because it carries a `requestId`.
 * - An optional bearer token travels as `authorization: Bearer <token>` metadata on every call.
 * - Rich errors: the `google.rpc.Status` of the `grpc-status-details-bin` trailer is decoded into its
 *   details (ErrorInfo, BadRequest, ...).
 * - Operations: the google.protobuf.Any metadata and response of a study's operation are unpacked into
 *   StudyProgress and StudyResult.
 */
import { randomUUID } from "node:crypto";
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientUnaryCall,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
  status as grpcStatus,
} from "@grpc/grpc-js";
import {
  GetOperationRequest,
  type Operation,
  OperationsClient,
  WaitOperationRequest,
} from "./gen/google/longrunning/operations";
import type { Any } from "./gen/google/protobuf/any";
import {
  BadRequest,
  ErrorInfo,
  PreconditionFailure,
  QuotaFailure,
  ResourceInfo,
  RetryInfo,
} from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";
import {
  type DeepPartial,
  OrchestratorServiceClient,
  RunStudyRequest,
  StudyProgress,
  StudyResult,
} from "./gen/tinytroupe/orchestrator/v1/orchestrator";

export const DEFAULT_ADDRESS = "127.0.0.1:50050";
export const DEFAULT_DEADLINE_MS = 30_000;
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";
export const ERROR_DOMAIN = "tinytroupe.io";
const ORCHESTRATOR_SERVICE = "tinytroupe.orchestrator.v1.OrchestratorService";
const OPERATIONS_SERVICE = "google.longrunning.Operations";

/** gRPC's retry policy: UNAVAILABLE only, with backoff; nothing else is retried automatically. */
export const RETRY_SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [
    {
      name: [{ service: ORCHESTRATOR_SERVICE }, { service: OPERATIONS_SERVICE }],
      retryPolicy: {
        maxAttempts: 5,
        initialBackoff: "0.1s",
        maxBackoff: "2s",
        backoffMultiplier: 2,
        retryableStatusCodes: ["UNAVAILABLE"],
      },
    },
  ],
};

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpcStatus)
    .filter(([, code]) => typeof code === "number")
    .map(([name, code]) => [code, name]),
);

export function codeName(code: number | undefined): string {
  return code === undefined ? "UNKNOWN" : (CODE_NAMES[code] ?? "UNKNOWN");
}

/** The messages that an Any of the mesh may hold, by full type name. */
const ANY_TYPES = {
  "tinytroupe.orchestrator.v1.StudyProgress": StudyProgress,
  "tinytroupe.orchestrator.v1.StudyResult": StudyResult,
  "google.rpc.ErrorInfo": ErrorInfo,
  "google.rpc.BadRequest": BadRequest,
  "google.rpc.PreconditionFailure": PreconditionFailure,
  "google.rpc.QuotaFailure": QuotaFailure,
  "google.rpc.ResourceInfo": ResourceInfo,
  "google.rpc.RetryInfo": RetryInfo,
} as const;
type AnyTypes = typeof ANY_TYPES;
type Decoded<K extends keyof AnyTypes> = ReturnType<AnyTypes[K]["decode"]>;

/** `type.googleapis.com/pkg.Message` → `pkg.Message`. */
export function typeNameOf(any: Any): string {
  return any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
}

/** The message an Any holds when it is of type `typeName`; otherwise undefined. */
export function unpackAny<K extends keyof AnyTypes>(any: Any | undefined, typeName: K): Decoded<K> | undefined {
  if (any === undefined || typeNameOf(any) !== typeName) return undefined;
  return ANY_TYPES[typeName].decode(any.value) as Decoded<K>;
}

/** A failed call (or a study's `google.rpc.Status`), with the standard details decoded. */
export interface ErrorDescription {
  code: number;
  codeName: string;
  message: string;
  errorInfo?: ErrorInfo;
  fieldViolations: { field: string; description: string }[];
  preconditionViolations: PreconditionFailure["violations"];
  quotaViolations: QuotaFailure["violations"];
  resourceInfo?: ResourceInfo;
  /** From RetryInfo: how long to wait before sending the same request again. */
  retryDelayMs?: number;
  /** Type names of every detail, in order. */
  detailTypes: string[];
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && "code" in error && "metadata" in error;
}

/** The google.rpc.Status of the `grpc-status-details-bin` trailer, when the error carries one. */
export function statusOf(error: ServiceError): Status | undefined {
  const [bytes] = error.metadata.get(STATUS_DETAILS_KEY);
  return bytes instanceof Buffer ? Status.decode(bytes) : undefined;
}

/** Decodes an error of a call, or the Status of a failed study's operation. */
export function describeError(error: unknown): ErrorDescription {
  let status: Status | undefined;
  let code: number = grpcStatus.UNKNOWN;
  let message = String(error);
  if (isServiceError(error)) {
    status = statusOf(error);
    code = error.code;
    message = error.details || status?.message || error.message;
  } else if (error !== null && typeof error === "object" && "details" in error && "code" in error) {
    status = error as Status;
    code = status.code;
    message = status.message;
  } else if (error instanceof Error) {
    message = error.message;
  }
  const details = status?.details ?? [];
  const all = <K extends keyof AnyTypes>(typeName: K): Decoded<K>[] =>
    details.map((detail) => unpackAny(detail, typeName)).filter((d): d is Decoded<K> => d !== undefined);
  const retryDelay = all("google.rpc.RetryInfo")[0]?.retryDelay;
  return {
    code,
    codeName: codeName(code),
    message,
    errorInfo: all("google.rpc.ErrorInfo")[0],
    fieldViolations: all("google.rpc.BadRequest").flatMap((bad) =>
      bad.fieldViolations.map(({ field, description }) => ({ field, description }))),
    preconditionViolations: all("google.rpc.PreconditionFailure").flatMap((p) => p.violations),
    quotaViolations: all("google.rpc.QuotaFailure").flatMap((q) => q.violations),
    resourceInfo: all("google.rpc.ResourceInfo")[0],
    retryDelayMs: retryDelay ? retryDelay.seconds * 1000 + Math.round(retryDelay.nanos / 1e6) : undefined,
    detailTypes: details.map(typeNameOf),
  };
}

/** A study's operation with its Any values unpacked. */
export interface StudyOperation {
  name: string;
  done: boolean;
  progress?: StudyProgress;
  result?: StudyResult;
  error?: ErrorDescription;
}

export function decodeOperation(operation: Operation): StudyOperation {
  return {
    name: operation.name,
    done: operation.done,
    progress: unpackAny(operation.metadata, "tinytroupe.orchestrator.v1.StudyProgress"),
    result: unpackAny(operation.response, "tinytroupe.orchestrator.v1.StudyResult"),
    error: operation.error ? describeError(operation.error) : undefined,
  };
}

export interface MeshClientOptions {
  /** host:port of the orchestrator; `dns:///name:port` balances over a headless Service's pods. */
  address?: string;
  /** Bearer token sent as `authorization` metadata. */
  token?: string;
  /** Default deadline of each unary call. */
  deadlineMs?: number;
  /** PEM CA bundle: use TLS (with `tls: true` alone, the system's CAs). */
  rootCerts?: Buffer;
  /** PEM client certificate and key, for a mesh that asks callers for one. */
  certChain?: Buffer;
  privateKey?: Buffer;
  tls?: boolean;
  channelOptions?: ChannelOptions;
}

export interface CallSettings {
  deadlineMs?: number;
  /** `x-request-id`, which the mesh writes into every log line of the call (one is made up otherwise). */
  requestId?: string;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class MeshClient {
  readonly address: string;
  private readonly token?: string;
  private readonly deadlineMs: number;
  readonly orchestrator: OrchestratorServiceClient;
  readonly operations: OperationsClient;

  constructor(options: MeshClientOptions = {}) {
    this.address = options.address ?? DEFAULT_ADDRESS;
    this.token = options.token;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const channelCredentials: ChannelCredentials = options.tls || options.rootCerts
      ? grpcCredentials.createSsl(options.rootCerts ?? null, options.privateKey ?? null, options.certChain ?? null)
      : grpcCredentials.createInsecure();
    const channelOptions: ChannelOptions = {
      "grpc.service_config": JSON.stringify(RETRY_SERVICE_CONFIG),
      "grpc.enable_retries": 1,
      "grpc.keepalive_time_ms": 30_000,
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      ...options.channelOptions,
    };
    this.orchestrator = new OrchestratorServiceClient(this.address, channelCredentials, channelOptions);
    // The same server serves Operations: share the channel.
    this.operations = new OperationsClient(this.address, channelCredentials, {
      ...channelOptions,
      channelOverride: this.orchestrator.getChannel(),
    });
  }

  /** Metadata of one call: the bearer token and an `x-request-id`. */
  metadata(settings: CallSettings = {}): Metadata {
    const metadata = new Metadata();
    if (this.token) metadata.set("authorization", `Bearer ${this.token}`);
    metadata.set("x-request-id", settings.requestId ?? randomUUID());
    return metadata;
  }

  private unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, settings: CallSettings = {}): Promise<Res> {
    const deadline = Date.now() + (settings.deadlineMs ?? this.deadlineMs);
    return new Promise((resolve, reject) => {
      method(request, this.metadata(settings), { deadline }, (error, response) => {
        if (error) reject(error);
        else resolve(response);
      });
    });
  }

  /**
   * Starts a study. A `requestId` is added when missing, so that the automatic retry of UNAVAILABLE
   * (and any retry of the caller with the same request) cannot start the study twice.
   */
  async runStudy(request: DeepPartial<RunStudyRequest>, settings?: CallSettings): Promise<StudyOperation> {
    const body = RunStudyRequest.fromPartial({ ...request, requestId: request.requestId || randomUUID() });
    const operation = await this.unary(this.orchestrator.runStudy.bind(this.orchestrator), body, settings);
    return decodeOperation(operation);
  }

  async getOperation(name: string, settings?: CallSettings): Promise<StudyOperation> {
    const request = GetOperationRequest.fromPartial({ name });
    return decodeOperation(await this.unary(this.operations.getOperation.bind(this.operations), request, settings));
  }

  /** Waits on the server up to `timeoutMs` for the operation to be done; returns it done or not. */
  async waitOperation(name: string, timeoutMs: number, settings: CallSettings = {}): Promise<StudyOperation> {
    const request = WaitOperationRequest.fromPartial({
      name,
      timeout: { seconds: Math.floor(timeoutMs / 1000), nanos: (timeoutMs % 1000) * 1e6 },
    });
    const deadlineMs = settings.deadlineMs ?? timeoutMs + 10_000;
    const wait = this.operations.waitOperation.bind(this.operations);
    return decodeOperation(await this.unary(wait, request, { ...settings, deadlineMs }));
  }

  /**
   * Streams a study's progress, calling `onProgress` for each event, until the study is done. The
   * stream's deadline covers the whole study. Resolves with the events received.
   */
  async watchStudy(
    name: string,
    { onProgress = () => {}, deadlineMs = 600_000 }: { onProgress?: (p: StudyProgress) => void; deadlineMs?: number } = {},
  ): Promise<StudyProgress[]> {
    const events: StudyProgress[] = [];
    const stream = this.orchestrator.watchStudy({ name }, this.metadata(), { deadline: Date.now() + deadlineMs });
    for await (const progress of stream as AsyncIterable<StudyProgress>) {
      events.push(progress);
      onProgress(progress);
    }
    return events;
  }

  /**
   * Waits until the operation is done: WaitOperation in slices of `sliceMs`, falling back to polling
   * GetOperation every `pollMs` where the server does not implement WaitOperation.
   */
  async waitUntilDone(
    name: string,
    { timeoutMs = 600_000, sliceMs = 10_000, pollMs = 500 } = {},
  ): Promise<StudyOperation> {
    const end = Date.now() + timeoutMs;
    let poll = false;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`operation ${name} not done after ${timeoutMs} ms`);
      let operation: StudyOperation;
      if (!poll) {
        try {
          operation = await this.waitOperation(name, Math.max(1000, Math.min(sliceMs, left)));
        } catch (error) {
          if (!isServiceError(error) || error.code !== grpcStatus.UNIMPLEMENTED) throw error;
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

  close(): void {
    this.operations.close();
    this.orchestrator.close();
  }
}
