import { worldClearance, type World } from './world.js';

/**
 * Whether a robot disc of `radius` at (x, y) touches an obstacle or a wall. Clearance-based, so the
 * reward's collision check and proximity cost share one distance computation per rollout step.
 */
export function collides(w: World, x: number, y: number, radius: number): boolean {
  return worldClearance(w, x, y) < radius;
}

/** Distance from the robot's edge to the nearest obstacle or wall (negative when overlapping). */
export function robotClearance(w: World, x: number, y: number, radius: number): number {
  return worldClearance(w, x, y) - radius;
}
