// ImageMagick's resource policy (policy.xml) and the pixel-cache arithmetic of case 000:
// a pixel cache larger than the `memory` limit goes to a file in the temporary path (a
// memory-mapped file up to `map`, a disk cache file beyond it): those are the magick-* files.
import fs from 'node:fs';
import path from 'node:path';

export interface MagickPolicy {
  /** the policy.xml read, or null when none was found */
  file: string | null;
  /** files looked for, in order */
  searched: string[];
  /** resource limits as written (memory, map, disk, area, temporary-path, ...) */
  limits: Record<string, string>;
}

export interface ImageSpec { width: number; height: number; depth: number; channels: number; text: string }

const CHANNELS: Record<string, number> = { gray: 1, grey: 1, rgb: 3, rgba: 4, cmyk: 4, cmyka: 5 };

/** `12000x12000[x16][:rgba]` -> the image; null when it does not parse. */
export function parseImageSpec(text: string): ImageSpec | null {
  const m = /^(\d+)x(\d+)(?:x(8|16|32|64))?(?::(gray|grey|rgb|rgba|cmyk|cmyka))?$/i.exec(text.trim());
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (!width || !height) return null;
  const depth = Number(m[3] ?? 16);
  const channels = CHANNELS[(m[4] ?? 'rgba').toLowerCase()]!;
  return { width, height, depth, channels, text: `${width}x${height}x${depth}:${(m[4] ?? 'rgba').toLowerCase()}` };
}

/** Case 000's image: 12000 x 12000 RGBA at ImageMagick's default Q16. */
export const DEFAULT_IMAGE = parseImageSpec('12000x12000x16:rgba')!;

/** Bytes of the pixel cache of one image. */
export function pixelCacheBytes(img: ImageSpec): number {
  return img.width * img.height * img.channels * (img.depth / 8);
}

/** ImageMagick sizes: `256MiB` (binary), `1GB` (decimal), `unlimited`; null when unlimited or unreadable. */
export function parseMagickSize(v: string): number | null {
  const m = /^\s*([\d.]+)\s*([KMGTPE]?)(i?)B?\s*$/i.exec(v);
  if (!m) return null;
  const pow = ' KMGTPE'.indexOf((m[2] || ' ').toUpperCase());
  return Math.round(Number(m[1]) * (m[3] ? 1024 : 1000) ** pow);
}

export function policyCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = (env['MAGICK_CONFIGURE_PATH'] ?? '').split(':').filter(Boolean);
  dirs.push('/etc/ImageMagick-7', '/etc/ImageMagick-6', '/usr/local/etc/ImageMagick-7', '/usr/local/etc/ImageMagick-6', '/etc/ImageMagick');
  return dirs.map((d) => path.join(d, 'policy.xml'));
}

export function parsePolicyXml(xml: string): Record<string, string> {
  const limits: Record<string, string> = {};
  const noComments = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of noComments.matchAll(/<policy\b([^>]*)\/?>/g)) {
    const attr = (n: string) => new RegExp(`\\b${n}\\s*=\\s*"([^"]*)"`).exec(m[1]!)?.[1];
    if (attr('domain') !== 'resource') continue;
    const name = attr('name');
    const value = attr('value');
    if (name && value !== undefined) limits[name] = value;
  }
  return limits;
}

/** The first policy.xml ImageMagick would read, parsed. */
export function readMagickPolicy(env: NodeJS.ProcessEnv = process.env): MagickPolicy {
  const searched = policyCandidates(env);
  for (const file of searched) {
    let xml: string;
    try {
      xml = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    return { file, searched, limits: parsePolicyXml(xml) };
  }
  return { file: null, searched, limits: {} };
}

export interface CacheVerdict {
  cacheBytes: number;
  memoryLimit: number | null;
  mapLimit: number | null;
  /** where the pixel cache of one image goes */
  goesTo: 'memory' | 'memory-mapped file' | 'disk cache file' | 'unknown';
}

export function cacheVerdict(img: ImageSpec, policy: MagickPolicy): CacheVerdict {
  const cacheBytes = pixelCacheBytes(img);
  const memoryLimit = policy.limits['memory'] ? parseMagickSize(policy.limits['memory']) : null;
  const mapLimit = policy.limits['map'] ? parseMagickSize(policy.limits['map']) : null;
  let goesTo: CacheVerdict['goesTo'] = 'unknown';
  if (memoryLimit !== null) {
    if (cacheBytes <= memoryLimit) goesTo = 'memory';
    else if (mapLimit === null || cacheBytes <= mapLimit) goesTo = mapLimit === null ? 'unknown' : 'memory-mapped file';
    else goesTo = 'disk cache file';
  }
  return { cacheBytes, memoryLimit, mapLimit, goesTo };
}
