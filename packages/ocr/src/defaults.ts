/**
 * The OCR backend's defaults, which the server's option table shows and uses. A module of its own
 * (`@solvebox/ocr/defaults`), so that reading them loads neither onnxruntime nor sharp.
 */

/** Readings less likely than this are declined (`--ocr-min-confidence`). */
export const DEFAULT_MIN_CONFIDENCE = 0.35;

/** Readings less likely than this are read a second time, denoised and cropped (`--ocr-second-look`). */
export const DEFAULT_SECOND_LOOK = 0.9;
