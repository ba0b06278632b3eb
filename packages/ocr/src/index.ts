/**
 * @solvebox/ocr: reads normal text-image captchas with our own CNN+CTC model (model/ocr.onnx,
 * trained by training/), on onnxruntime-node in worker threads.
 * @module
 */
export { DEFAULT_MIN_CONFIDENCE, DEFAULT_SECOND_LOOK } from './defaults.js';
export { OcrSolver, type LiveModel, type OcrSolverOptions } from './solver.js';
export { ImageRejected, PoolError, RecognizerPool, type PoolOptions } from './pool.js';
export { Recognizer, type Recognition, type RecognizeOptions } from './recognizer.js';
export { Reader, evaluate, type Answer, type NoAnswer } from './read.js';
export { bestPath, constrainedDecode, foldCase, type Constraints, type FrameScores, type Reading } from './decode.js';
export { DEFAULT_MODEL_DIR, loadModelInfo, modelCard, type ModelCard, type ModelInfo } from './model.js';
export { INPUT_HEIGHT, INPUT_WIDTH, ImageError, preprocess, type Variant } from './preprocess.js';
