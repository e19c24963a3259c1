/** A value given on the command line that the generators cannot use: reported with the usage, exit code 2. */
export class GenerateInputError extends Error {}
