'use strict';
// Study files as `troupe run` reads them, and the command lines of the two scripts.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { StudyFileError, loadStudyFile, studyRequestFromObject } = require('../src/study-file');
const { normalizeStudyRequest } = require('../src/mesh');

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');
const SRC = path.resolve(__dirname, '..', 'src');

test('the CLI example study file reads as it does for troupe run', () => {
  const request = normalizeStudyRequest(loadStudyFile(path.join(EXAMPLES, 'focus_group.json')));
  const { specifications, specification_sources: sources } = request.participants;
  assert.equal(specifications.length, 3);
  for (const specification of specifications) {
    assert.equal(typeof specification, 'string');
    assert.ok(!specification.includes('[object Object]'));
    assert.equal(JSON.parse(specification).type, 'TinyPerson');
  }
  assert.deepEqual(sources, ['agents/Amara.agent.json', 'agents/Tomas.agent.json', 'agents/Mei.agent.json']);
  assert.equal(request.participants.mode, 'MODE_FROM_AGENT');
  assert.equal(request.simulation_config.environment_type, 'ENVIRONMENT_TYPE_FOCUS_GROUP');
});

test('inline specifications become JSON text and fragments take names or files', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'study-'));
  fs.writeFileSync(path.join(folder, 'fragment.json'), '{"type": "Fragment"}');
  const request = studyRequestFromObject({
    participants: {
      mode: 'from_agent',
      specifications: [{ type: 'TinyPerson', persona: { name: 'Ana' } }, '{"type": "TinyPerson"}'],
      fragments: ['skeptic', { file: 'fragment.json' }, { builtin: 'FRAGMENT_OPTIMIST' }],
    },
  }, folder);
  assert.deepEqual(JSON.parse(request.participants.specifications[0]), { type: 'TinyPerson', persona: { name: 'Ana' } });
  assert.equal(request.participants.specifications[1], '{"type": "TinyPerson"}');
  assert.equal(request.participants.specification_sources, undefined);
  assert.deepEqual(request.participants.fragments, [
    { builtin: 'FRAGMENT_SKEPTIC' }, { custom_json: '{"type": "Fragment"}' }, { builtin: 'FRAGMENT_OPTIMIST' },
  ]);
});

test('a study file that cannot be read says which entry and why', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'study-'));
  const file = path.join(folder, 'study.json');
  fs.writeFileSync(file, JSON.stringify({ participants: { specifications: [{ file: 'missing.json' }] } }));
  assert.throws(() => loadStudyFile(file), (error) => error instanceof StudyFileError
    && /participants\.specifications\[0\]: cannot read .*missing\.json/.test(error.message));
  fs.writeFileSync(file, '{not json');
  assert.throws(() => loadStudyFile(file), /not valid JSON/);
  assert.throws(() => loadStudyFile(path.join(EXAMPLES, 'survey.yaml')), /troupe run/);
});

for (const script of ['run-study.js', 'bad-request.js']) {
  test(`${script} --help prints its usage, a wrong option the usage with the problem`, () => {
    const help = spawnSync(process.execPath, [path.join(SRC, script), '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: node src\//);
    assert.equal(help.stderr, '');
    const wrong = spawnSync(process.execPath, [path.join(SRC, script), '--no-such-option'], { encoding: 'utf8' });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /no-such-option[\s\S]*usage: node src\//);
    assert.doesNotMatch(wrong.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('run-study.js names an unreadable study file without a stack trace', () => {
  const run = spawnSync(process.execPath, [path.join(SRC, 'run-study.js'), 'no-such-study.json'], { encoding: 'utf8' });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /^no-such-study\.json: /);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
});
