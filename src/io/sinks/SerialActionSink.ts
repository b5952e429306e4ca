/**
 * Actions written back to a serial port as JSON lines (`{"t":…,"seq":…,"action":{…},…}\n`),
 * with backpressure: under a slow port only the newest pending action is kept.
 */
import type { SerialLink } from '../serial/SerialLink.js';
import type { ActionMessage, ActionSink } from './ActionSink.js';

export class SerialActionSink implements ActionSink {
  readonly name = 'serial';
  constructor(private readonly link: SerialLink) {}

  publish(action: Readonly<ActionMessage>): void {
    this.link.writeLine(action);
  }
}
