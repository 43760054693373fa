'use strict';
// PTZ on the default profile: ContinuousMove with a timeout, Stop, presets.
const { connect, call, emit, fail, sleep } = require('./common');

(async () => {
	const cam = await connect();
	const profileToken = cam.activeSource.profileToken;
	emit({ profileToken, nodes: await call(cam, 'getNodes') });
	emit({ step: 'before', status: await call(cam, 'getStatus', { profileToken }) });
	await call(cam, 'continuousMove', { profileToken, x: -0.5, y: 0.25, zoom: 0.5 });
	await sleep(500);
	emit({ step: 'moving', status: await call(cam, 'getStatus', { profileToken }) });
	await call(cam, 'stop', { profileToken, panTilt: true, zoom: true });
	emit({ step: 'stopped', status: await call(cam, 'getStatus', { profileToken }) });
	await sleep(300);
	emit({ step: 'later', status: await call(cam, 'getStatus', { profileToken }) });
	// A move with a timeout (the package sends PT0.4S): the head stops by itself.
	await call(cam, 'continuousMove', { profileToken, x: 0.5, timeout: 400 });
	await sleep(900);
	emit({ step: 'timed-out', status: await call(cam, 'getStatus', { profileToken }) });
	// setPreset hands back the raw xml2js tree (no linerase): dig the token out.
	const raw = await call(cam, 'setPreset', { profileToken, presetName: 'node-gate' });
	const preset = { presetToken: raw[0].setPresetResponse[0].presetToken[0] };
	emit({ setPreset: preset, presets: await call(cam, 'getPresets', { profileToken }) });
	await call(cam, 'absoluteMove', { profileToken, x: 0.75, y: -0.75, zoom: 0 });
	await sleep(100);
	emit({ step: 'absolute', status: await call(cam, 'getStatus', { profileToken }) });
	await call(cam, 'gotoPreset', { profileToken, preset: preset.presetToken });
	let status;
	for (let i = 0; i < 50; i++) {
		status = await call(cam, 'getStatus', { profileToken });
		if (String(status.moveStatus && status.moveStatus.panTilt).toUpperCase() === 'IDLE') { break; }
		await sleep(100);
	}
	emit({ step: 'preset', status });
	await call(cam, 'removePreset', { profileToken, presetToken: preset.presetToken });
	emit({ presetsAfter: await call(cam, 'getPresets', { profileToken }) });
})().catch(fail);
