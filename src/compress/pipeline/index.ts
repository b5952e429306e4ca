export { runPipeline, type PipelineOptions, type PipelineResult, type Summary, type EvaluateStage, type StageFigure } from './pipeline.js';
export { writeReport, paretoSvg, stagesSvg } from './report.js';
export { WorkDir, type Checkpoint } from './workdir.js';
