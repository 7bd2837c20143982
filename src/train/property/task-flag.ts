/** Whether a `finetune` command line asks for `--task property`; light, so finetune loads the property code only when asked. */
export function asksForPropertyTask(argv: string[]): boolean {
  return argv.some((a, i) => a === '--task=property' || (a === '--task' && argv[i + 1] === 'property'));
}
