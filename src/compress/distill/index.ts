export { distillLoss, boltzmann, klDivergence, huber, DEFAULT_DISTILL_LOSS, type DistillLossOptions } from './loss.js';
export { distillStudent, heldOutFidelity, monitorScore, studentOnnx, type StudentArch, type DistillOptions, type DistillResult, type HeldOutFidelity } from './distill.js';
export { readTeacher, checkTeacherFeatures, scoreStates, type TeacherSource } from './teacher.js';
export { layersFromOnnx } from './layers.js';
