/** The etcd URL's form, checked without loading the etcd client. */
import { HostmaintError } from '../../core/errors.js';

/** "etcd3+http://a:2379,b:2379" -> ["http://a:2379", "http://b:2379"]. Usage error (exit 2) when malformed. */
export function parseEtcdUrl(url: string): string[] {
  const m = /^etcd3\+(https?):\/\/(.+)$/.exec(url.trim());
  if (!m) {
    throw new HostmaintError('usage', `--coordination '${url}' is not an etcd URL`, {
      hint: 'Give etcd3+http://HOST:PORT[,HOST:PORT...] (or etcd3+https://...), or leave --coordination out for the local backend.',
    });
  }
  const scheme = m[1]!;
  const hosts = m[2]!.replace(/\/+$/, '').split(',').map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0 || hosts.some((h) => !/^[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(h))) {
    throw new HostmaintError('usage', `--coordination '${url}': each etcd endpoint must be HOST:PORT`, { hint: 'For example etcd3+http://10.0.0.5:2379,10.0.0.6:2379.' });
  }
  return hosts.map((h) => `${scheme}://${h}`);
}

