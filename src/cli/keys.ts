/** `edgereward keys generate --out DIR [--name N]`: an ed25519 key pair for signing bundles. */
import type { Command } from 'commander';

export function register(program: Command): void {
  const keys = program.command('keys').description('ed25519 keys that sign model bundles');
  keys
    .command('generate')
    .description('write <name>.key (private, mode 0600: keep it with the publisher) and <name>.pub (copy it into devices\' trust store)')
    .requiredOption('--out <dir>', 'directory for the key files (created if missing)')
    .option('--name <name>', 'file name stem', 'edgereward')
    .option('--force', 'overwrite existing key files', false)
    .action(async (o: { out: string; name: string; force: boolean }) => {
      const { existsSync, mkdirSync } = await import('node:fs');
      const { join, resolve } = await import('node:path');
      const { EdgeError } = await import('../errors.js');
      const { generateKeyPair } = await import('../runtime/bundle/keys.js');
      const { writeFileAtomicSync } = await import('../runtime/store/atomic.js');
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.name)) {
        throw new EdgeError('E_CLI_ARG', `--name "${o.name}" is not a plain file name; use letters, digits, ".", "_" and "-"`);
      }
      mkdirSync(o.out, { recursive: true, mode: 0o700 });
      const keyPath = resolve(join(o.out, `${o.name}.key`));
      const pubPath = resolve(join(o.out, `${o.name}.pub`));
      for (const p of [keyPath, pubPath]) {
        if (existsSync(p) && !o.force) {
          throw new EdgeError('E_KEY_EXISTS', `${p} already exists; bundles signed with it would no longer verify if it were replaced — choose another --name, or pass --force`);
        }
      }
      const k = generateKeyPair();
      writeFileAtomicSync(keyPath, k.privateKeyPem, 0o600);
      writeFileAtomicSync(pubPath, k.publicKeyPem, 0o644);
      process.stdout.write(
        `key id   ${k.keyId}\n` +
        `private  ${keyPath}  (mode 0600; keep it secret, sign with --key)\n` +
        `public   ${pubPath}  (copy into the devices' trust store)\n`,
      );
    });
}
