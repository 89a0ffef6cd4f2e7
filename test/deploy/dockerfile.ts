import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@cbot-relay/testing';

/** One instruction of a Dockerfile stage, continuation lines joined. */
export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  instructions: Instruction[];
}

/** The stages of the repo's Dockerfile (`FROM … AS name`), enough to re-run their COPY and RUN steps. */
export function dockerfileStages(text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`Dockerfile: cannot read ${JSON.stringify(line)}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!;
    if (op === 'FROM') {
      const as = /\s+AS\s+(\S+)\s*$/i.exec(args);
      stages.push({ name: as?.[1] ?? `stage${stages.length}`, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push({ op, args });
    }
  }
  return stages;
}

export function stage(stages: Stage[], name: string): Stage {
  const found = stages.find((s) => s.name === name);
  if (found === undefined) throw new Error(`Dockerfile: no stage named ${name}`);
  return found;
}
