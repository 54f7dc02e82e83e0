/**
 * `hostmaint completion [bash|zsh]`: a shell completion script. The script
 * calls `hostmaint completion --words -- <the words typed so far>`, and the
 * completions come from yargs (`getCompletion`) over the same command
 * modules and global options as the real parser: commands, their flags, and
 * the choices of flags like --stopped and --on-timeout. Then the values that
 * fit the word typed (completion-values.ts: clouds, run ids, workflows, hosts),
 * from a parse of the words by a parser whose handlers do nothing.
 */
import { commandWords } from './words.js';
import type { Argv, CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { usageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';

interface CompletionArgs {
  shell?: string;
  words?: boolean;
  _: Array<string | number>;
  '--'?: Array<string | number>;
  [key: string]: unknown;
}

const BASH = `###-begin-hostmaint-completions-###
# hostmaint completion for bash. Install:
#   hostmaint completion bash > ~/.local/share/bash-completion/completions/hostmaint
# or add to ~/.bashrc:  source <(hostmaint completion bash)
_hostmaint_completions()
{
    local cur_word words
    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    mapfile -t words < <(hostmaint completion --words -- "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
    mapfile -t COMPREPLY < <(compgen -W "$(printf '%q ' "\${words[@]}")" -- "\${cur_word}")
    if [ \${#COMPREPLY[@]} -eq 0 ]; then
        COMPREPLY=()
    fi
    return 0
}
complete -o bashdefault -o default -F _hostmaint_completions hostmaint
###-end-hostmaint-completions-###
`;

const ZSH = `#compdef hostmaint
###-begin-hostmaint-completions-###
# hostmaint completion for zsh. Install:
#   hostmaint completion zsh > "\${fpath[1]}/_hostmaint"
# or add to ~/.zshrc:  source <(hostmaint completion zsh)
_hostmaint_completions()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(ZSH_NAME=zsh hostmaint completion --words -- "\${words[@]:0:$CURRENT}" 2>/dev/null))
  IFS=$si
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _default
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _hostmaint_completions "$@"
else
  compdef _hostmaint_completions hostmaint
fi
###-end-hostmaint-completions-###
`;

export function completionScript(shell: string): string {
  if (shell === 'bash') return BASH;
  if (shell === 'zsh') return ZSH;
  throw usageError(`no completion for the shell '${shell}'`, 'hostmaint completes in bash and zsh: hostmaint completion bash, or hostmaint completion zsh.');
}

/** The shell of $SHELL, if it is one we complete. */
function shellOf(env: NodeJS.ProcessEnv): string {
  const name = (env.SHELL ?? '').split('/').pop() ?? '';
  return name === 'zsh' ? 'zsh' : 'bash';
}

/**
 * A parser with the commands and options of `hostmaint`, for completion only
 * (handlers never run): the same command list as the CLI (commands/index.ts).
 */
export async function completionParser(state: CommandState, withCommands: RegisterCommands, args: string[] = []): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  return withCommands(yargs(args).scriptName('hostmaint'), state)
    .completion('__completion', false)
    .help(false)
    .version(false)
    .exitProcess(false);
}

/**
 * What yargs would complete after `words` (the command line so far, the word
 * being typed last). This is yargs' own completion run: the parser is given
 * `--get-yargs-completions hostmaint <words>`, descends into the command's
 * builder, and prints the candidates (captured here instead of printed).
 */
export async function completionsFor(state: CommandState, withCommands: RegisterCommands, words: string[]): Promise<string[]> {
  const line = words.length > 0 && /(^|\/)hostmaint(\.js)?$/.test(words[0] as string) ? ['hostmaint', ...words.slice(1)] : ['hostmaint', ...words];
  if (line.length === 1) line.push('');
  const args = ['--get-yargs-completions', ...line];
  const parser = await completionParser(state, withCommands, args);
  // The parse callback fires when the outer parse ends (no output yet) and again when the
  // completion inside the command's builder has printed; take the last output once they settle.
  const output = await new Promise<string>((resolve, reject) => {
    let latest = '';
    let timer: NodeJS.Timeout | null = null;
    try {
      void parser.parse(args, {}, (_err: unknown, _argv: unknown, out: string) => {
        if (out) latest = out;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => resolve(latest), 25);
      });
    } catch (e) {
      reject(e);
    }
  });
  // Single-letter aliases (-q, -y, -f...) come out as "--q"; their long names are listed anyway.
  const fromYargs = output.split('\n').filter((c) => c !== '' && !/^--?[A-Za-z](:|$)/.test(c));
  const current = line[line.length - 1] ?? '';
  const previous = line.length >= 3 ? (line[line.length - 2] ?? '') : '';
  const { completionValues } = await import('../completion-values.js');
  const values = await completionValues({ argv: await parsedWords(state, withCommands, line.slice(1)), current, previous, env: state.io.env });
  const extra = values.filter((v) => v.startsWith(current) && !fromYargs.includes(v)).sort();
  // A flag's value: only the values (yargs would offer the commands again).
  return previous.startsWith('-') && extra.length > 0 ? extra : [...fromYargs, ...extra];
}

/**
 * The words typed, parsed by the CLI's own commands and options (which positional the last word
 * is, which cloud and state directory are named), by a parser whose handlers do nothing and whose
 * complaints are dropped: completion never runs a command.
 */
async function parsedWords(state: CommandState, withCommands: RegisterCommands, words: string[]): Promise<Record<string, unknown>> {
  const { default: yargs } = await import('yargs');
  const y = yargs([]).scriptName('hostmaint').help(false).version(false).exitProcess(false).fail(() => undefined);
  const register = y.command.bind(y) as (m: unknown) => unknown;
  // Every command (and workflow's subcommands) registered with a handler that does nothing.
  (y as unknown as { command: (m: unknown) => unknown }).command = (m: unknown) => {
    register(m !== null && typeof m === 'object' ? { ...(m as object), handler: () => undefined } : m);
    return y;
  };
  try {
    return (await withCommands(y, state).parse(words, {}, () => undefined)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Registers every command on a parser (commands/index.ts withCommands), passed in: the list imports this command. */
export type RegisterCommands = <T>(y: Argv<T>, state: CommandState) => Argv<T>;

export function completionCommand(state: CommandState, withCommands: RegisterCommands): CommandModule<object, CompletionArgs> {
  return {
    ...commandWords('completion', (y) =>
      y
        .option('words', { type: 'boolean', hidden: true, describe: 'Used by the script: print the completions of the words after --' })
        .parserConfiguration({ 'populate--': true })),
    handler: async (argv) => {
      if (argv.words) {
        const words = (argv['--'] ?? []).map(String);
        for (const c of await completionsFor(state, withCommands, words)) state.io.stdout.write(`${c}\n`);
      } else {
        state.io.stdout.write(completionScript(argv.shell ?? shellOf(state.io.env)));
      }
      state.exitCode = EXIT.OK;
    },
  };
}
