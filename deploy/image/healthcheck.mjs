// The image's HEALTHCHECK: GET Skua's health endpoint (healthcheckv2 `http.status.path`, default /status on
// :13133), exit 0 when it answers 200. Override with SKUA_HEALTHCHECK_URL when the config moves it.
const url = process.env.SKUA_HEALTHCHECK_URL || 'http://127.0.0.1:13133/status';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
