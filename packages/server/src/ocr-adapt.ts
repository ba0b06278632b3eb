/**
 * `@solvebox/server/ocr-adapt`: adapting the OCR model (`solvebox ocr adapt`), from the OCR
 * package, for the CLI, which reaches the OCR package only through the server. Loads no inference
 * engine.
 */
export { AdaptError, adaptModel, adaptPrerequisites, type AdaptOptions, type AdaptReport } from '@solvebox/ocr/adapt';
