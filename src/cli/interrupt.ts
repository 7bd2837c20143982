/**
 * Ctrl-C during a run that checkpoints (MD, the MD17 benchmark): the first interrupt asks the run,
 * through `signal`, to finish its current step and write a checkpoint; the listener then steps
 * aside, so a second Ctrl-C ends the process at once as Node does by default.
 */
export function stopOnInterrupt(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ninterrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
    process.removeListener('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.removeListener('SIGINT', onSigint) };
}
