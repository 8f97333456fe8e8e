// The console's sound: a short two-note chime made with Web Audio (no file to fetch), played
// for chats newly given to the user and customers writing in their chats; on unless the user
// turned it off in this browser.

const KEY = "switchboard.sound";
const QUIET_FOR = 1500;

let context = null;
let lastPlayed = 0;

/** Whether the chime plays, as this browser keeps it. */
export function soundOn() {
  return localStorage.getItem(KEY) !== "off";
}

/** Turns the chime on or off for this browser. */
export function setSound(on) {
  localStorage.setItem(KEY, on ? "on" : "off");
  if (on) prepare();
}

/** Makes the audio context while the user is acting on the page, so later chimes may play. */
export function prepare() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  context ??= new Context();
  if (context.state === "suspended") context.resume().catch(() => {});
  return context;
}

/** Plays the chime, at most once in a short while; answers whether it played. */
export function chime() {
  if (!soundOn() || Date.now() - lastPlayed < QUIET_FOR) return false;
  const audio = prepare();
  if (!audio) return false;
  lastPlayed = Date.now();
  const start = audio.currentTime + 0.01;
  [[660, 0], [880, 0.14]].forEach(([frequency, delay]) => {
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.type = "sine";
    tone.frequency.value = frequency;
    volume.gain.setValueAtTime(0.0001, start + delay);
    volume.gain.exponentialRampToValueAtTime(0.25, start + delay + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, start + delay + 0.3);
    tone.connect(volume).connect(audio.destination);
    tone.start(start + delay);
    tone.stop(start + delay + 0.32);
  });
  return true;
}
