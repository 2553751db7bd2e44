// Asks for a token on the terminal without echoing it: the terminal goes to raw mode and the typed
// characters are kept, never written back. Enter ends the answer, Backspace takes back a character,
// Ctrl-C or Ctrl-D (end of input) gives up. Only on a terminal: piped input would be read as it
// arrives, visible in the shell's history, so the caller asks for the environment variable instead.

/** A terminal's input, as `process.stdin` is one. */
export interface SecretInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: "data", listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** The longest answer kept: access tokens are far shorter. */
const MAX_SECRET_LENGTH = 4096;

export class SecretPromptAborted extends Error {
  constructor() {
    super("no token given");
    this.name = "SecretPromptAborted";
  }
}

export function canAsk(input: SecretInput): boolean {
  return input.isTTY === true && typeof input.setRawMode === "function";
}

/** Says `prompt` (a line on the terminal's stderr) and reads one line from `input` without echo. */
export function askSecret(prompt: string, input: SecretInput, say: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const finish = (error?: Error) => {
      input.removeListener("data", onData);
      input.setRawMode?.(false);
      input.pause();
      if (error) reject(error);
      else resolve(answer.trim());
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003" || ch === "\u0004") return finish(new SecretPromptAborted());
        if (ch === "\u007f" || ch === "\b") answer = answer.slice(0, -1);
        else if (ch >= " " && answer.length < MAX_SECRET_LENGTH) answer += ch;
      }
    };
    say(prompt);
    input.setRawMode?.(true);
    input.on("data", onData);
    input.resume();
  });
}
