'use strict';
/**
 * A RunStudy request from a JSON study file, read as `troupe run` reads one (examples/*.json work in both):
 *
 * - fields by their proto names (`session_config`, `participants`, ...);
 * - enums short or in full (`from_agent` or `MODE_FROM_AGENT`, `focus_group`), expanded by the client;
 * - each `participants.specifications` entry a JSON string, an inline object (the persona specification
 *   itself), or `{"file": "path"}`: that file's text, the path relative to the study file;
 * - each `participants.fragments` entry a built-in fragment's name (`skeptic`), `{"file": "path"}` (a custom
 *   fragment's JSON), or the Fragment message itself (`{"builtin": "FRAGMENT_SKEPTIC"}`).
 *
 * YAML study files are for `troupe run` only: this client reads JSON.
 */

const fs = require('node:fs');
const path = require('node:path');

class StudyFileError extends Error {}

function loadStudyFile(file) {
  if (/\.ya?ml$/i.test(file)) {
    throw new StudyFileError(`${file}: YAML study files are read by \`troupe run\` only; write the study as JSON`);
  }
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new StudyFileError(`${file}: ${error.message}`);
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new StudyFileError(`${file}: not valid JSON: ${error.message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new StudyFileError(`${file}: must hold an object with the fields of a study request`);
  }
  return studyRequestFromObject(data, path.dirname(file), file);
}

/** The request with file references read and inline specifications as JSON text. */
function studyRequestFromObject(data, baseDir = '.', source = 'study') {
  const request = JSON.parse(JSON.stringify(data));
  const participants = request.participants;
  if (!participants || typeof participants !== 'object') return request;
  if (participants.specifications !== undefined) {
    const entries = Array.isArray(participants.specifications)
      ? participants.specifications : [participants.specifications];
    const sources = [];
    participants.specifications = entries.map((entry, index) => {
      const field = `participants.specifications[${index}]`;
      if (isFileReference(entry)) {
        sources.push(String(entry.file));
        return readRelative(baseDir, entry.file, source, field);
      }
      sources.push('');
      return typeof entry === 'string' ? entry : JSON.stringify(entry);
    });
    if (sources.some(Boolean)) participants.specification_sources = sources;
  }
  if (Array.isArray(participants.fragments)) {
    participants.fragments = participants.fragments.map((entry, index) => {
      if (typeof entry === 'string') {
        const name = entry.toUpperCase();
        return { builtin: name.startsWith('FRAGMENT_') ? name : `FRAGMENT_${name}` };
      }
      if (isFileReference(entry)) {
        return { custom_json: readRelative(baseDir, entry.file, source, `participants.fragments[${index}]`) };
      }
      return entry;
    });
  }
  return request;
}

function isFileReference(entry) {
  return entry !== null && typeof entry === 'object' && !Array.isArray(entry)
    && Object.keys(entry).length === 1 && 'file' in entry;
}

function readRelative(baseDir, relative, source, field) {
  if (typeof relative !== 'string' || !relative) {
    throw new StudyFileError(`${source}: ${field}: \`file\` must be a path relative to the study file`);
  }
  const file = path.resolve(baseDir, relative);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new StudyFileError(`${source}: ${field}: cannot read ${file}: ${error.message}`);
  }
}

module.exports = { StudyFileError, loadStudyFile, studyRequestFromObject };
