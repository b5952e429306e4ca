/**
 * `edgereward rollback [--store DIR] [--config FILE]`: on the device, by hand: make the
 * last-known-good model active again and block the current one. A running daemon notices the
 * change of the store within a second and swaps.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('rollback')
    .description('go back to the last-known-good model in the model store (a running daemon follows within a second)')
    .option('--store <dir>', 'model store directory (default: model.dir of the configuration)')
    .option('--config <file>', 'configuration file to read model.dir from')
    .option('--status', 'only show the store: active, last-known-good, blocked')
    .action(async (o: { store?: string; config?: string; status?: boolean }) => {
      const { ModelStore } = await import('../runtime/store/ModelStore.js');
      const { EdgeError } = await import('../errors.js');
      let dir = o.store;
      if (!dir) {
        const { loadConfig, defaultConfigFile } = await import('../config/load.js');
        dir = loadConfig({ file: o.config ?? process.env['EDGEREWARD_CONFIG'] ?? defaultConfigFile(), flags: {} }).model.dir;
      }
      const store = ModelStore.open(dir);
      const st = store.state;
      const show = (): string => `active: ${st.active?.id ?? '-'}${st.active ? (st.confirmed ? ' (confirmed)' : ` (unconfirmed, ${st.boots} boots)`) : ''}\nlast-known-good: ${st.lastKnownGood?.id ?? '-'}\nstored: ${st.entries.map((e) => e.id).join(', ') || '-'}\nblocked: ${st.blocked.map((b) => `${b.id} (${b.reason})`).join(', ') || '-'}\n`;
      if (o.status) {
        process.stdout.write(show());
        return;
      }
      const from = st.active?.id;
      const to = store.rollbackSync('manual');
      if (!to) throw new EdgeError('E_STORE_NO_ROLLBACK', `the store ${dir} has no last-known-good model other than the active one (${from ?? 'none'}); nothing to roll back to`);
      process.stdout.write(`rolled back ${from} -> ${to.id} in ${dir}\n${show()}`);
    });
}
