// The playground's state in the URL fragment: JSON, deflate-raw (fflate),
// base64url. It stays in the browser: a fragment is never sent to a server.
import { deflateSync, inflateSync, strToU8, strFromU8 } from 'fflate';

const PREFIX = '#s=';
const FIELDS = ['style', 'script', 'token', 'context', 'environmentVariables', 'grants'];

function toBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The fragment (with its leading `#s=`) for a state. */
export function encodeState(state) {
  const plain = { v: 1 };
  for (const key of FIELDS) plain[key] = state[key] ?? '';
  return PREFIX + toBase64Url(deflateSync(strToU8(JSON.stringify(plain)), { level: 9 }));
}

/**
 * The state in a fragment, or null when the fragment holds none; throws
 * with a readable message when it holds a damaged one.
 */
export function decodeState(hash) {
  if (!hash || !hash.startsWith(PREFIX)) return null;
  let plain;
  try {
    plain = JSON.parse(strFromU8(inflateSync(fromBase64Url(hash.slice(PREFIX.length)))));
  } catch (error) {
    throw new Error(`the shared link is damaged (${error.message}); was it cut short?`);
  }
  if (!plain || typeof plain !== 'object' || plain.v !== 1) {
    throw new Error('the shared link is of an unknown version');
  }
  const state = {};
  for (const key of FIELDS) {
    if (typeof plain[key] !== 'string') throw new Error(`the shared link has no ${key}`);
    state[key] = plain[key];
  }
  return state;
}
