// route: computes the ETA between two points (a few tens of milliseconds of "work" per route).
import { envInt, envString, parseLocation, randomInt, requiredParam, serve, sleep } from './common.js';

serve('route', envString('DEMO_HOST', '127.0.0.1'), envInt('DEMO_PORT', 8083), {
  '/route': async (url) => {
    const pickup = parseLocation(requiredParam(url, 'pickup'), 'pickup');
    const dropoff = parseLocation(requiredParam(url, 'dropoff'), 'dropoff');
    await sleep(randomInt(20, 80));
    const distance = Math.hypot(pickup[0] - dropoff[0], pickup[1] - dropoff[1]);
    return { pickup: pickup.join(','), dropoff: dropoff.join(','), etaSeconds: Math.round(60 + distance * 2) };
  },
});
