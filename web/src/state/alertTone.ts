// The sound of an urgent or emergency message: a short tone made with Web Audio (no audio file,
// nothing to fetch). Never played for a silent copy (the recipient is off duty). Browsers that
// block audio before the first click, or have none (tests), just stay quiet.

let ctx: AudioContext | null = null;

export function playAlertTone(priority: 'urgent' | 'emergency'): void {
  const Ctor = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!Ctor) return;
  try {
    ctx ??= new Ctor();
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    const beeps = priority === 'emergency' ? 3 : 2;
    const start = ctx.currentTime;
    for (let i = 0; i < beeps; i++) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = priority === 'emergency' ? 988 : 784;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(ctx.destination);
      osc.start(start + i * 0.3);
      osc.stop(start + i * 0.3 + 0.18);
    }
  } catch {
    // No sound this time; the on-screen alert still shows.
  }
}
