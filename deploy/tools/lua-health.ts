// Runs an Argo CD resource health script (Lua) against an object, as Argo CD does: the object is the global `obj`,
// the script returns a table {status, message}. Lua runs in fengari (a Lua 5.3 VM in JavaScript), so the health
// checks in deploy/argocd are tested offline against the states the resources go through.
import { createRequire } from 'node:module';
import { isObj } from './yaml-files.js';

const require = createRequire(import.meta.url);
// fengari ships no types; the handful of calls used here are typed below.
const fengari = require('fengari') as {
  lua: Record<string, unknown> & {
    LUA_OK: number;
    lua_pushnil(L: unknown): void;
    lua_pushboolean(L: unknown, b: boolean): void;
    lua_pushnumber(L: unknown, n: number): void;
    lua_pushinteger(L: unknown, n: number): void;
    lua_pushstring(L: unknown, s: Uint8Array): void;
    lua_createtable(L: unknown, narr: number, nrec: number): void;
    lua_setfield(L: unknown, idx: number, k: Uint8Array): void;
    lua_rawseti(L: unknown, idx: number, n: number): void;
    lua_setglobal(L: unknown, name: Uint8Array): void;
    lua_pcall(L: unknown, nargs: number, nresults: number, msgh: number): number;
    lua_tojsstring(L: unknown, idx: number): string;
    lua_type(L: unknown, idx: number): number;
    lua_getfield(L: unknown, idx: number, k: Uint8Array): number;
    lua_pop(L: unknown, n: number): void;
    LUA_TTABLE: number;
    LUA_TSTRING: number;
  };
  lauxlib: { luaL_newstate(): unknown; luaL_loadstring(L: unknown, s: Uint8Array): number };
  lualib: { luaL_openlibs(L: unknown): void };
  to_luastring(s: string): Uint8Array;
};

const { lua, lauxlib, lualib, to_luastring } = fengari;

function push(L: unknown, v: unknown): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  else if (typeof v === 'number') {
    if (Number.isInteger(v)) lua.lua_pushinteger(L, v);
    else lua.lua_pushnumber(L, v);
  } else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((x, i) => {
      push(L, x);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (isObj(v)) {
    lua.lua_createtable(L, 0, Object.keys(v).length);
    for (const [k, x] of Object.entries(v)) {
      push(L, x);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  } else throw new Error(`cannot pass ${typeof v} to Lua`);
}

export interface HealthStatus {
  status: string;
  message: string;
}

const STATUSES = new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown']);

/** Runs `script` with `obj`; throws on a Lua error or a result Argo CD would not accept. */
export function runHealthScript(script: string, obj: unknown): HealthStatus {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  push(L, obj);
  lua.lua_setglobal(L, to_luastring('obj'));
  if (lauxlib.luaL_loadstring(L, to_luastring(script)) !== lua.LUA_OK) {
    throw new Error(`health script does not compile: ${lua.lua_tojsstring(L, -1)}`);
  }
  if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new Error(`health script failed: ${lua.lua_tojsstring(L, -1)}`);
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) throw new Error('health script must return a table');
  const field = (name: string): string | undefined => {
    const t = lua.lua_getfield(L, -1, to_luastring(name));
    const v = t === lua.LUA_TSTRING ? lua.lua_tojsstring(L, -1) : undefined;
    lua.lua_pop(L, 1);
    return v;
  };
  const status = field('status');
  if (status === undefined || !STATUSES.has(status)) throw new Error(`health script returned status ${String(status)}, not one of ${[...STATUSES].join(', ')}`);
  return { status, message: field('message') ?? '' };
}
