/** Entry point of the `skua` command (bin/skua.js imports the compiled dist/cli/main.js). */
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2));
// Everything was shut down and flushed; exit even if a client keeps an idle connection open.
process.exit(code);
