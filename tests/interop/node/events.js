'use strict';
// Events as UniFi Protect / Node-RED get them: cam.on('event', ...) makes the
// package create a PullPoint subscription and loop PullMessages (Timeout PT1M,
// default namespaces, no wsa:Action) and Renew. Prints {"ready": true} once the
// first messages (the initial property states) arrived, then every event, and
// stops after a VideoSource/MotionAlarm with State true (or after 40 s).
const { connect, emit, fail } = require('./common');

function simpleItems(part) {
	// linerase leaves one SimpleItem as an object and several as an array.
	if (!part || !part.simpleItem) { return {}; }
	const items = Array.isArray(part.simpleItem) ? part.simpleItem : [part.simpleItem];
	return Object.fromEntries(items.map((item) => [String(item.$.Name), String(item.$.Value)]));
}

(async () => {
	const cam = await connect();
	const started = Date.now();
	let ready = false;
	const deadline = setTimeout(() => fail(new Error('no motion event within 40 s')), 40000);
	cam.on('eventsError', (error) => emit({ eventsError: String(error && error.message || error) }));
	cam.on('event', (message) => {
		const body = message.message.message;
		const topic = message.topic._;
		const event = {
			topic: topic,
			operation: body.$.PropertyOperation,
			source: simpleItems(body.source),
			data: simpleItems(body.data),
			at: Date.now() - started,
		};
		emit({ event });
		if (!ready) {
			ready = true;
			emit({ ready: true, subscription: cam.events.subscription.subscriptionReference.address.href });
		}
		if (topic.endsWith('VideoSource/MotionAlarm') && event.data.State === 'true') {
			clearTimeout(deadline);
			// No listener left: after this PullMessages the package unsubscribes.
			cam.removeAllListeners('event');
			emit({ done: true, terminationTime: cam.events.terminationTime });
			setTimeout(() => process.exit(0), 300);
		}
	});
})().catch(fail);
