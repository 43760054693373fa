'use strict';
// Connect, device information, services and capabilities, hostname, scopes.
const { connect, call, emit, fail } = require('./common');

(async () => {
	const cam = await connect();
	emit({
		connected: true,
		media2Support: cam.media2Support,
		uri: Object.fromEntries(Object.entries(cam.uri).map(([k, v]) => [k, v.href])),
		activeSource: cam.activeSource,
	});
	emit({ GetDeviceInformation: await call(cam, 'getDeviceInformation') });
	emit({ GetSystemDateAndTime: (await call(cam, 'getSystemDateAndTime')).toISOString() });
	emit({ GetCapabilities: await call(cam, 'getCapabilities') });
	emit({ GetServices: await call(cam, 'getServices', true) });
	emit({ GetHostname: await call(cam, 'getHostname') });
	emit({ GetScopes: await call(cam, 'getScopes') });
})().catch(fail);
