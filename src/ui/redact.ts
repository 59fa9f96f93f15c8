/**
 * The one place secrets are scrubbed. The logger, the process adapter and the error printer all run
 * text through the same Redactor, so a secret registered once (PAT, client secret, token) is
 * replaced by `***` everywhere output can go, whichever code path produced it.
 */
export const MASK = '***';

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a secret and the encodings it commonly travels in (Basic auth, URL encoding). */
  add(secret: string | undefined | null): void {
    if (!secret || secret.length < 4) return;
    this.secrets.add(secret);
    this.secrets.add(encodeURIComponent(secret));
    for (const user of ['', 'PAT', 'pat']) {
      this.secrets.add(Buffer.from(`${user}:${secret}`).toString('base64'));
    }
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || !text) return text;
    let out = text;
    // Longest first so a secret that contains another is masked whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join(MASK);
    }
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactValue<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }
}
