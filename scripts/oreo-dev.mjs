// Run the CLI straight from the TypeScript sources (development): node --import tsx scripts/oreo-dev.mjs <args>
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
