// Adds the training composition (src/model/card.ts) to the cards of the bundled models that were
// trained before models recorded it. Weights are not touched: each model is loaded in its own
// precision and saved again with oreo's own saveModel, metadata changed only by `composition`.
// Run after `npm run build`:  node scripts/add-model-composition.mjs [models/x.oreo …]
//
// Fine-tuned models: the composition of the file the card names (meta.data), counted as the
// card's nTrain frames. Pre-trained models: the sources of the pre-training config they were made
// with (caps applied; the whole of each source, of which the training split is 90 %).
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { loadModelFile, saveModel } = await import(join(root, 'dist/src/model/io/native.js'));
const { compositionOf } = await import(join(root, 'dist/src/model/card.js'));
const { readConformations } = await import(join(root, 'dist/src/data/read.js'));
const { loadDataset } = await import(join(root, 'dist/src/data/dataset.js'));
const { readPretrainConfig } = await import(join(root, 'dist/src/train/run-config.js'));

/** The pre-training configs of the bundled pre-trained models (models/README.md gives the commands). */
const PRETRAIN_CONFIGS = {
  'oreo-pretrained-et4x64.oreo': 'data/configs/md17-study/pretrain-et-oreo.json',
  'oreo-pretrained-small.oreo': 'models/pretrain-small.json',
};

const files = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(join(root, 'models')).filter((f) => f.endsWith('.oreo')).map((f) => join(root, 'models', f));
for (const file of files) {
  const pot = loadModelFile(file);
  const name = file.split('/').pop();
  let composition;
  if (pot.meta.stage === 'finetune' && typeof pot.meta.data === 'string') {
    const confs = await readConformations(join(root, pot.meta.data));
    composition = compositionOf(confs, `added to the card later, from ${pot.meta.data} (the fine-tuning data)`);
    const n = Number(pot.meta.nTrain);
    if (composition.molecules === 1 && Number.isInteger(n) && n > 0) {
      composition.conformations = n;
      composition.formulas[Object.keys(composition.formulas)[0]] = n;
    }
  } else if (PRETRAIN_CONFIGS[name]) {
    const cfg = readPretrainConfig(join(root, PRETRAIN_CONFIGS[name]));
    const sources = await loadDataset(cfg.data);
    composition = compositionOf(sources.flatMap((s) => s.conformations), `added to the card later, from the sources of ${PRETRAIN_CONFIGS[name]} (caps applied; all splits)`);
  } else {
    console.log(`${name}: no training data named on its card; left as it is`);
    continue;
  }
  pot.meta.composition = composition;
  saveModel(pot, file);
  console.log(`${name}: ${composition.molecules} molecule(s), ${composition.conformations} conformations${composition.specific ? ' (molecule-specific)' : ''}`);
}
