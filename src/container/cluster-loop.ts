/**
 * The one cluster loop of the container writers: the guest disk split into clusters (qcow2
 * clusters, VMDK grains, tgz pieces), the ones that read as zeros left out, and the rest sent
 * to a ClusterCompressor in batches, several batches in flight so that every worker stays
 * busy while this thread reads and writes, and handed back in guest order.
 */
import { isZero } from '../binary/block-device.js';
import type { ClusterCompressor } from './compress.js';
import { blocksWithData, readBlocks, type ImageSource } from './source.js';

/**
 * The `unit`-sized clusters of `src` that hold data, ascending, as [index, bytes] (`bytes` is
 * a view into a read buffer, valid until the next step); `onZero` is called for each one left out.
 */
export function* dataClusters(src: ImageSource, unit: number, onZero?: () => void): Generator<[number, Uint8Array]> {
  for (const [c, bytes] of readBlocks(src, blocksWithData(src, unit), unit)) {
    if (isZero(bytes)) onZero?.();
    else yield [c, bytes];
  }
}

export interface PipelineOptions {
  /** Clusters per message to a worker. */
  batch: number;
  /** Batches in flight before the loop waits for the oldest. */
  depth: number;
}

/**
 * Compresses `clusters` on `compressor`, calling `place(id, raw, packed)` for each in input
 * order (`raw` is a copy the caller may keep).
 */
export async function compressInOrder(clusters: Iterable<[number, Uint8Array]>, compressor: ClusterCompressor, o: PipelineOptions,
  place: (id: number, raw: Uint8Array, packed: Uint8Array) => void): Promise<void> {
  const inflight: { ids: number[]; raw: Uint8Array[]; result: Promise<Uint8Array[]> }[] = [];
  const drainOne = async () => {
    const b = inflight.shift()!;
    const packed = await b.result;
    b.ids.forEach((id, k) => place(id, b.raw[k]!, packed[k]!));
  };
  let ids: number[] = [];
  let raws: Uint8Array[] = [];
  const send = () => {
    inflight.push({ ids, raw: raws, result: compressor.compress(raws) });
    ids = [];
    raws = [];
  };
  for (const [id, bytes] of clusters) {
    ids.push(id);
    raws.push(bytes.slice());
    if (ids.length === o.batch) {
      send();
      if (inflight.length >= o.depth) await drainOne();
    }
  }
  if (ids.length) send();
  while (inflight.length) await drainOne();
}
