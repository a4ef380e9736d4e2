/** The layouts shipped with diskimage-ts, by the name DIB_BLOCK_DEVICE gives them (plus 'bare': DIB's no-vm fallback). */
import { BARE_DOCUMENT, BARE_LAYOUT } from './bare.js';
import { EFI_LAYOUT } from './efi.js';
import { GPT_LAYOUT } from './gpt.js';
import { MBR_LAYOUT } from './mbr.js';

export const SHIPPED_LAYOUTS: Readonly<Record<string, string>> = {
  mbr: MBR_LAYOUT,
  gpt: GPT_LAYOUT,
  efi: EFI_LAYOUT,
  bare: BARE_LAYOUT,
};

/** Shipped layouts also given as their parsed documents, which load without the YAML parser. */
export const SHIPPED_DOCUMENTS: Readonly<Record<string, unknown>> = {
  bare: BARE_DOCUMENT,
};
