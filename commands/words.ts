// The words of a slash command's text, as the `/gitlab` parser splits them (a module of its own, so
// commands that cut their own free text can use it without importing the command table).

export interface ParsedWords {
  words: string[];
  /** For each word, the index in the text just past its end (to cut the raw rest of the text). */
  ends: number[];
}

/**
 * Splits on white space; double quotes group words, so `label:"two words"` stays one word with its
 * quotes (parseFeatures reads them), and a word that is wholly quoted ("two words") loses its quotes.
 * An unclosed quote is taken literally rather than refused: free-text commands may contain one.
 */
export function splitWords(text: string): ParsedWords {
  const words: string[] = [];
  const ends: number[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    let quoted = false;
    while (i < text.length && (quoted || !/\s/.test(text[i]!))) {
      if (text[i] === '"' && (quoted || text.indexOf('"', i + 1) !== -1)) quoted = !quoted;
      i++;
    }
    const word = text.slice(start, i);
    words.push(/^"[^"]*"$/.test(word) ? word.slice(1, -1) : word);
    ends.push(i);
  }
  return { words, ends };
}
