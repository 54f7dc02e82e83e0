/**
 * The scenario's images (default: one "cirros"), listed by Glance
 * (GET /image/v2/images, by name) and by Nova's image proxy (GET /images,
 * /images/detail, up to 2.35).
 */
import type { Route } from './http.js';
import { err, route } from './http.js';
import type { TokenStore } from './keystone.js';
import type { Rng } from './rng.js';
import type { ImageSpec } from './scenario.js';
import type { Wrap } from './compute/api.js';
import { isotime, links, ok } from './compute/api.js';

export interface ImageState {
  id: string;
  name: string;
  createdAt: number;
}

export class Images {
  readonly byId = new Map<string, ImageState>();

  constructor(specs: ImageSpec[], rng: Rng, now: number) {
    for (const i of specs) {
      const id = i.id ?? rng.uuid();
      this.byId.set(id, { id, name: i.name, createdAt: now });
    }
  }
}

/** Nova's GET /images and /images/detail (removed in 2.36). */
export function novaImagesRoutes(h: Wrap, images: Images): Route[] {
  const listImages = (detail: boolean) =>
    h(
      (req) =>
        ok({
          images: [...images.byId.values()].map((i) =>
            detail
              ? { id: i.id, name: i.name, status: 'ACTIVE', progress: 100, minDisk: 0, minRam: 0, metadata: {}, created: isotime(i.createdAt), updated: isotime(i.createdAt), links: links(req, 'images', i.id) }
              : { id: i.id, name: i.name, links: links(req, 'images', i.id) },
          ),
        }),
      { maxVersion: 35 },
    );

  return [route('GET', '/images', listImages(false)), route('GET', '/images/detail', listImages(true))];
}

/** Glance v2: the version document and GET /v2/images. */
export function glanceRoutes(images: Images, tokens: TokenStore): Route[] {
  return [
    route('GET', '/', (req) => ({
      status: 300,
      body: { versions: [{ id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${req.baseUrl}/image/v2/` }] }] },
    })),
    route('GET', '/v2/images', (req) => {
      const auth = tokens.check(String(req.headers['x-auth-token'] ?? ''));
      if (!auth || !auth.projectId) return err('image', 401, 'The request you have made requires authentication.', req.requestId);
      const name = req.query.get('name');
      const list = [...images.byId.values()]
        .filter((i) => !name || i.name === name)
        .map((i) => ({
          id: i.id,
          name: i.name,
          status: 'active',
          visibility: 'public',
          disk_format: 'raw',
          container_format: 'bare',
          size: 1024,
          min_disk: 0,
          min_ram: 0,
          created_at: isotime(i.createdAt),
          updated_at: isotime(i.createdAt),
          self: `/v2/images/${i.id}`,
          file: `/v2/images/${i.id}/file`,
          schema: '/v2/schemas/image',
        }));
      return { status: 200, body: { images: list, first: '/v2/images', schema: '/v2/schemas/images' } };
    }),
  ];
}
