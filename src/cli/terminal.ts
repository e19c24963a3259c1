import { wrap } from './command.js';

/** How text is laid out for the reader: its width, and whether it may be coloured. */
export interface Style {
  width: number;
  colour: boolean;
}

/** The default width: a terminal's own, else 100 columns. */
const WIDTH = 100;

/**
 * A terminal's width and colour, from the stream and the environment: colour only on a TTY and never with NO_COLOR
 * set to anything (https://no-color.org), the width of the terminal (at least 60), else 100 columns.
 */
export function styleOf(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Style {
  const tty = 'isTTY' in stream && stream.isTTY === true;
  const columns = 'columns' in stream && typeof stream.columns === 'number' ? stream.columns : undefined;
  return {
    width: tty && columns !== undefined ? Math.max(60, columns) : WIDTH,
    colour: tty && !env.NO_COLOR,
  };
}

const COLOURS = { red: 31, yellow: 33, green: 32, dim: 2 } as const;

/** `text` in a colour when the style allows it. */
export function paint(style: Style, colour: keyof typeof COLOURS, text: string): string {
  return style.colour ? `\x1b[${COLOURS[colour]}m${text}\x1b[0m` : text;
}

/**
 * One line per item, `label` in a column of `labelWidth`, the text wrapped to the width under itself. `label` is
 * given plain (its width) and painted by `painted`.
 */
export function labelled(
  style: Style,
  label: string,
  labelWidth: number,
  text: string,
  painted: (label: string) => string = (l) => l,
): string {
  const indent = ' '.repeat(labelWidth + 2);
  const lines = wrap(text, Math.max(20, style.width - indent.length));
  return `${painted(label.padEnd(labelWidth))}  ${lines.join(`\n${indent}`)}`;
}
