// imagemagick.pixel-cache: when magick-* files are a culprit (or an image size is asked about),
// read policy.xml and say whether such an image's pixel cache spills to a file, with the
// arithmetic: width x height x channels x bytes per channel against the memory and map limits.
import type { Check } from './types.js';
import { culpritsOf } from './culprits.js';
import { DEFAULT_IMAGE, cacheVerdict, type CacheVerdict } from '../probe/imagemagick.js';
import { bytes } from '../shared/units.js';

export interface ImagemagickEvidence {
  image: string;
  arithmetic: string;
  cacheBytes: number;
  /** the policy.xml read here, null when none was found */
  policyFile: string | null;
  searched: string[];
  memory: string | null;
  map: string | null;
  disk: string | null;
  temporaryPath: string | null;
  goesTo: CacheVerdict['goesTo'];
  /** magick-* files among the culprits */
  magickFiles: number;
}

function gib(n: number): string {
  return `${Math.max(1, Math.ceil(n / 2 ** 30))}GiB`;
}

export const imagemagickCache: Check<'imagemagick.pixel-cache'> = {
  id: 'imagemagick.pixel-cache',
  describe: 'with magick-* culprits (or --image): does the pixel cache spill to temp files under policy.xml',
  run(ctx) {
    const magick = ctx.mounts.flatMap((m) => culpritsOf(m, ctx)).filter((c) => c.signature?.id === 'imagemagick');
    if (magick.length === 0 && !ctx.image) return [];
    const img = ctx.image ?? DEFAULT_IMAGE;
    const policy = ctx.host.magickPolicy();
    const v = cacheVerdict(img, policy);
    const spills = v.goesTo === 'memory-mapped file' || v.goesTo === 'disk cache file';
    const temp = policy.limits['temporary-path'] ?? process.env['MAGICK_TEMPORARY_PATH'] ?? 'TMPDIR or /tmp';
    const arithmetic = `${img.width} x ${img.height} x ${img.channels} channels x ${img.depth / 8} bytes = ${bytes(v.cacheBytes)} per image (about twice that while resizing)`;
    const title = policy.file === null
      ? `no policy.xml found: ImageMagick's built-in limits (derived from RAM) decide where a ${img.text} cache goes (${bytes(v.cacheBytes)})`
      : v.goesTo === 'unknown'
        ? `${policy.file} sets no memory or map limit: where a ${img.text} pixel cache (${bytes(v.cacheBytes)}) goes is unknown`
        : spills
          ? `a ${img.text} image (${bytes(v.cacheBytes)} pixel cache) exceeds the memory limit: its cache goes to a ${v.goesTo} in ${temp}, a magick-* file left behind if the process is killed`
          : `a ${img.text} image (${bytes(v.cacheBytes)} pixel cache) fits the memory limit: no cache file`;
    // spills is only ever true with a policy file: its limits decided it
    const file = policy.file!;
    return [{
      id: 'imagemagick.pixel-cache',
      severity: spills && magick.length > 0 ? 'warning' : 'info',
      target: policy.file ?? 'ImageMagick',
      title,
      evidence: {
        image: img.text,
        arithmetic,
        cacheBytes: v.cacheBytes,
        policyFile: policy.file,
        searched: policy.searched,
        memory: policy.limits['memory'] ?? null,
        map: policy.limits['map'] ?? null,
        disk: policy.limits['disk'] ?? null,
        temporaryPath: policy.limits['temporary-path'] ?? null,
        goesTo: v.goesTo,
        magickFiles: magick.reduce((a, c) => a + c.count, 0),
      },
      fix: spills ? [{
        text: `Let the pixel cache stay in RAM: raise memory above twice the cache (${bytes(2 * v.cacheBytes)}) and map above that`,
        file,
        content: `<policy domain="resource" name="memory" value="${gib(2 * v.cacheBytes)}"/>\n<policy domain="resource" name="map" value="${gib(4 * v.cacheBytes)}"/>`,
      }, {
        text: 'Or refuse images that large instead of spilling them to disk',
        file,
        content: '<policy domain="resource" name="area" value="100MP"/>',
      }] : [],
    }];
  },
};
