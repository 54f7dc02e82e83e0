import type { Argv, Options } from 'yargs';

/** Cloud selection flags, named as openstackclient names them. */
export const cloudOptions: Record<string, Options> = {
  'os-cloud': { type: 'string', group: 'Cloud:', describe: 'Cloud from clouds.yaml (env OS_CLOUD); "demo" runs the built-in emulated cloud' },
  'os-auth-url': { type: 'string', group: 'Cloud:', describe: 'Keystone URL (env OS_AUTH_URL); /v2.0 is rewritten to /v3' },
  'os-auth-type': { type: 'string', group: 'Cloud:', describe: 'password | v3applicationcredential | token (env OS_AUTH_TYPE)' },
  'os-username': { type: 'string', group: 'Cloud:', describe: 'User name (env OS_USERNAME)' },
  'os-password': { type: 'string', group: 'Cloud:', describe: 'Password (env OS_PASSWORD; prefer the env or secure.yaml: flags show in ps)' },
  'os-project-name': { type: 'string', group: 'Cloud:', describe: 'Project name (env OS_PROJECT_NAME, or the old OS_TENANT_NAME)' },
  'os-project-id': { type: 'string', group: 'Cloud:', describe: 'Project id (env OS_PROJECT_ID)' },
  'os-user-domain-name': { type: 'string', group: 'Cloud:', describe: 'User domain name (env OS_USER_DOMAIN_NAME; default Default)' },
  'os-user-domain-id': { type: 'string', group: 'Cloud:', describe: 'User domain id (env OS_USER_DOMAIN_ID)' },
  'os-project-domain-name': { type: 'string', group: 'Cloud:', describe: 'Project domain name (env OS_PROJECT_DOMAIN_NAME; default Default)' },
  'os-project-domain-id': { type: 'string', group: 'Cloud:', describe: 'Project domain id (env OS_PROJECT_DOMAIN_ID)' },
  'os-application-credential-id': { type: 'string', group: 'Cloud:', describe: 'Application credential id (env OS_APPLICATION_CREDENTIAL_ID)' },
  'os-application-credential-name': { type: 'string', group: 'Cloud:', describe: 'Application credential name, with --os-username (env OS_APPLICATION_CREDENTIAL_NAME)' },
  'os-application-credential-secret': { type: 'string', group: 'Cloud:', describe: 'Application credential secret (env OS_APPLICATION_CREDENTIAL_SECRET)' },
  'os-region-name': { type: 'string', group: 'Cloud:', describe: 'Region (env OS_REGION_NAME)' },
  'os-interface': { type: 'string', group: 'Cloud:', describe: 'Endpoint interface: public | internal | admin (env OS_INTERFACE; default public)' },
  'os-cacert': { type: 'string', group: 'Cloud:', describe: 'CA bundle to verify the cloud\'s TLS certificates (env OS_CACERT)' },
  insecure: { type: 'boolean', group: 'Cloud:', describe: 'Do not verify TLS certificates (env OS_INSECURE). Not for production' },
  timeout: { type: 'string', group: 'Cloud:', default: '60s', describe: 'Timeout of one API request (e.g. 30s)' },
};

/** Where hosts are locked and runs shared (coord/): every command that runs or reads runs. */
export const coordinationOptions: Record<string, Options> = {
  coordination: { type: 'string', group: 'Coordination:', describe: 'Share leases, runs and budgets with other runners through etcd: etcd3+http://HOST:PORT[,HOST:PORT...] (env HOSTMAINT_COORDINATION; default: this machine\'s state directory)' },
  'lease-ttl': { type: 'string', group: 'Coordination:', describe: 'With etcd: how long a dead runner\'s hold on a host outlives it, e.g. 15s (the default; env HOSTMAINT_LEASE_TTL in seconds)' },
};

export const outputOptions: Record<string, Options> = {
  format: { alias: 'f', choices: ['table', 'json'], default: 'table', group: 'Output:', describe: 'Result on stdout as a table or one JSON document' },
  events: { type: 'string', group: 'Output:', describe: 'Progress events as NDJSON: "ndjson" (stdout) or "ndjson=FILE" (schema: docs/events.schema.json)' },
  quiet: { alias: 'q', type: 'boolean', group: 'Output:', describe: 'Only the final result: no progress on stderr (errors still shown)' },
  progress: { choices: ['auto', 'live', 'plain'], default: 'auto', group: 'Output:', describe: 'Progress on stderr: a live view on a terminal, else plain lines (auto); or force one' },
  color: { type: 'boolean', default: true, group: 'Output:', describe: 'Colour in the live view; --no-color (or NO_COLOR=1) turns it off' },
  report: { type: 'string', group: 'Output:', describe: 'Also write a report for the change ticket: FILE.md (Markdown) or FILE.json' },
  verbose: { alias: 'v', type: 'count', group: 'Output:', describe: 'More log output on stderr: -v info and HTTP requests, -vv debug' },
  'log-file': { type: 'string', group: 'Output:', describe: 'Also write every log line as JSON to this file' },
  'state-dir': { type: 'string', group: 'Output:', describe: 'Where run records are kept (default $XDG_STATE_HOME/hostmaint or ~/.local/state/hostmaint)' },
};

/**
 * The options of commands that talk to the cloud and run (drain, undrain, plan, run, resume,
 * continue). With `listing` (plan), the output is a listing's: -f table|json|yaml|value|csv, -c.
 */
export function runOptions<T>(y: Argv<T>, opts: { listing?: boolean } = {}): Argv<T> {
  const output = opts.listing ? { ...outputOptions, ...listingOptions } : outputOptions;
  return y.options(cloudOptions).options(output).options(coordinationOptions) as unknown as Argv<T>;
}

/** The options of commands that only read the state directory (status, history): no cloud, no progress. */
export function stateReadOptions<T>(y: Argv<T>, extra: Array<keyof typeof outputOptions> = []): Argv<T> {
  const pick = ['state-dir', ...extra];
  return y
    .options(Object.fromEntries(Object.entries(outputOptions).filter(([k]) => pick.includes(k))))
    .options(coordinationOptions)
    .options(listingOptions) as unknown as Argv<T>;
}

/** A listing's output, as openstackclient's: -f table|json|yaml|value|csv, -c COLUMN. */
export const listingOptions: Record<string, Options> = {
  format: { alias: 'f', choices: ['table', 'json', 'yaml', 'value', 'csv'], default: 'table', group: 'Output:', describe: 'The listing as a table, one JSON document, YAML, bare values or CSV' },
  column: { alias: 'c', type: 'string', array: true, group: 'Output:', describe: 'Only this column (by its header; repeat for more), in table, yaml, value and csv' },
};

/** The flag names, camelCased as yargs gives them, that feed the cloud config layer. */
export function cloudOverrides(argv: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const flag of Object.keys(cloudOptions)) {
    if (flag === 'timeout') continue;
    const camel = flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (argv[camel] !== undefined) out[camel] = argv[camel];
  }
  return out;
}
