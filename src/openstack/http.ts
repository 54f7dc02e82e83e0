/**
 * The HTTP core, for importers outside src/openstack/ (the folder's own files
 * import the modules themselves):
 *
 * - http-transport.ts: HttpTransport (keep-alive agents, TLS and the CA
 *   bundle, the axios instance of each endpoint, timeouts, request counters);
 * - http-request.ts: the ServiceClient on a transport (headers, retries of
 *   safe requests, one re-authentication on 401, redacted debug lines);
 * - http-errors.ts: every failure as an HttpError, with the service's own
 *   fault message and the request id;
 * - microversions.ts: the version document, the negotiation, the headers.
 */
export { DEFAULT_TIMEOUT_MS, HttpTransport, createServiceClient, createTransport, hostmaintVersion, type HttpTransportOptions } from './http-transport.js';
export { DEFAULT_RETRY, type RetryPolicy } from './http-request.js';
export { TransportFailure, faultMessage, kindForStatus, serviceLabel, tlsReason } from './http-errors.js';
export { chooseMicroversion, negotiateMicroversion, parseVersionDocument, type VersionRange } from './microversions.js';
export type { ServiceClientOptions, TokenSource } from './service-client.js';
