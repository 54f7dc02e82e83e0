/** The OpenStack layer: connect to a cloud and talk to Nova and Placement. */
export type { Accepted, CallOptions, CloudSession, ComputeApi, MigrationQuery, PlacementApi } from './api.js';
export { compareMicroversions, type HttpMethod, type ServiceClient, type ServiceClientOptions, type ServiceRequest, type ServiceResponse, type TokenSource } from './service-client.js';
export { connect, type ConnectOptions, type HostmaintSession } from './session.js';
export { DEFAULT_TIMEOUT_MS, HttpTransport, createServiceClient, createTransport, hostmaintVersion, type HttpTransportOptions } from './http-transport.js';
export { DEFAULT_RETRY, type RetryPolicy } from './http-request.js';
export { faultMessage } from './http-errors.js';
export { chooseMicroversion, negotiateMicroversion, parseVersionDocument, type VersionRange } from './microversions.js';
export { REDACTED, redact, redactHeaders, redactUrl, scrub } from './redact.js';
export * from './identity/index.js';
export { COMPUTE_MAX_MICROVERSION, COMPUTE_MIN_MICROVERSION, createComputeClient } from './compute/index.js';
export { PLACEMENT_MAX_MICROVERSION, PLACEMENT_MIN_MICROVERSION, createPlacementClient } from './placement/index.js';
