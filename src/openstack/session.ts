/**
 * connect(): from a ResolvedCloud to an authenticated CloudSession. Authenticate
 * with Keystone, find the compute and placement endpoints in the catalog
 * (region and interface honoured), negotiate each service's microversion from
 * its version document, and build the typed clients on ServiceClients that
 * re-authenticate on 401. The session exposes who we are for run records,
 * never the token.
 */
import { realClock, type Clock } from '../core/clock.js';
import type { ResolvedCloud } from '../config/cloud-types.js';
import type { Logger } from '../core/log.js';
import type { CloudSession, ComputeApi, PlacementApi } from './api.js';
import { COMPUTE_MAX_MICROVERSION, COMPUTE_MIN_MICROVERSION, createComputeClient } from './compute/index.js';
import type { RetryPolicy } from './http-request.js';
import { HttpTransport } from './http-transport.js';
import { findEndpoint } from './identity/catalog.js';
import { TokenProvider } from './identity/token-provider.js';
import { projectNames } from './identity/projects.js';
import { negotiateMicroversion } from './microversions.js';
import { PLACEMENT_MAX_MICROVERSION, PLACEMENT_MIN_MICROVERSION, createPlacementClient } from './placement/index.js';

export interface ConnectOptions {
  logger: Logger;
  /** For token expiry and retry backoff (default: the real clock). */
  clock?: Clock;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  /** Cancels connecting, and every later request of the session. */
  signal?: AbortSignal;
  /** Default `hostmaint/<version>`. */
  userAgent?: string;
  retry?: Partial<RetryPolicy>;
  /** Jitter source for retry backoff (tests). */
  random?: () => number;
}

/** A CloudSession with a little more for diagnostics (endpoints and ranges; never the token). */
export interface HostmaintSession extends CloudSession {
  readonly endpoints: { identity: string; compute: string; placement: string };
  /** The microversion ranges the cloud advertised. */
  readonly serverVersions: { compute: { min: string; max: string }; placement: { min: string; max: string } };
}

export async function connect(cloud: ResolvedCloud, opts: ConnectOptions): Promise<HostmaintSession> {
  const logger = opts.logger;
  const clock = opts.clock ?? realClock;
  const transport = new HttpTransport({
    logger,
    clock,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
    ...(opts.random !== undefined ? { random: opts.random } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    cacert: cloud.cacert,
    insecure: cloud.insecure,
  });
  try {
    const identity = transport.client({ serviceType: 'identity', endpoint: cloud.authUrl, tokens: null });
    const tokens = new TokenProvider({ cloud, identity, logger, clock });
    const auth = await tokens.auth({ signal: opts.signal });

    const computeUrl = findEndpoint(auth.catalog, 'compute', cloud.interface, cloud.regionName);
    const placementUrl = findEndpoint(auth.catalog, 'placement', cloud.interface, cloud.regionName);
    const projectId = auth.project?.id ?? null;
    const [cv, pv] = await Promise.all([
      negotiateMicroversion(transport, {
        serviceType: 'compute',
        endpoint: computeUrl,
        code: { min: COMPUTE_MIN_MICROVERSION, max: COMPUTE_MAX_MICROVERSION },
        tokens,
        projectId,
        signal: opts.signal,
      }),
      negotiateMicroversion(transport, {
        serviceType: 'placement',
        endpoint: placementUrl,
        code: { min: PLACEMENT_MIN_MICROVERSION, max: PLACEMENT_MAX_MICROVERSION },
        tokens,
        projectId,
        signal: opts.signal,
      }),
    ]);
    const compute: ComputeApi = createComputeClient(
      transport.client({ serviceType: 'compute', endpoint: computeUrl, microversion: cv.microversion, tokens }),
      logger,
    );
    const placement: PlacementApi = createPlacementClient(
      transport.client({ serviceType: 'placement', endpoint: placementUrl, microversion: pv.microversion, tokens }),
      logger,
    );

    const identityInfo = {
      userName: auth.user.name,
      userId: auth.user.id,
      projectName: auth.project?.name ?? null,
      projectId: auth.project?.id ?? '',
      roles: [...auth.roles],
      authUrl: cloud.authUrl,
      regionName: cloud.regionName,
    };
    if (!auth.roles.some((r) => r.toLowerCase() === 'admin')) {
      logger.warn(
        `The user has no admin role in the project (roles: ${auth.roles.join(', ') || 'none'}): disabling services, listing all servers and live migration are admin operations in Nova's default policy.`,
        { roles: auth.roles },
      );
    }
    logger.info(`connected to cloud '${cloud.name}'`, {
      cloud: cloud.name,
      authUrl: cloud.authUrl,
      user: identityInfo.userName ?? identityInfo.userId,
      project: identityInfo.projectName ?? identityInfo.projectId,
      region: cloud.regionName,
      interface: cloud.interface,
      compute: computeUrl,
      computeMicroversion: cv.microversion,
      placement: placementUrl,
      placementMicroversion: pv.microversion,
    });

    let closed = false;
    return {
      cloudName: cloud.name,
      compute,
      placement,
      projects: projectNames(transport.client({ serviceType: 'identity', endpoint: cloud.authUrl, tokens })),
      identity: identityInfo,
      endpoints: { identity: cloud.authUrl, compute: computeUrl, placement: placementUrl },
      serverVersions: { compute: cv.server, placement: pv.server },
      requestCount: () => transport.requestCount(),
      close: async () => {
        if (closed) return;
        closed = true;
        tokens.clear();
        transport.close();
      },
    };
  } catch (e) {
    transport.close();
    throw e;
  }
}
