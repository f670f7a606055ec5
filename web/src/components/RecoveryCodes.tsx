// Ten single-use recovery codes, shown once: after set-up and after making new ones.
export function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <>
      <p>
        Keep these recovery codes somewhere safe, away from your phone. Each works once, to sign in if you lose your phone. They will not be shown again.
      </p>
      <ul className="app-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
    </>
  );
}
