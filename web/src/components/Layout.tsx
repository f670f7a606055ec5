// The frame of every signed-in screen: skip link, header, connection state, main, announcements.
import type { ReactNode } from 'react';
import { useChat } from '../state/store';
import { ConnectionStatus } from './ConnectionStatus';
import { Header } from './Header';
import { UrgentAlertBanner } from './UrgentAlertBanner';

export function Layout({ path, onSignOut, children }: { path: string; onSignOut: () => void; children: ReactNode }) {
  const chat = useChat();
  if (!chat.me) return null;
  return (
    <>
      <a className="nhsuk-skip-link" href="#maincontent">
        Skip to main content
      </a>
      <Header me={chat.me} path={path} onSignOut={onSignOut} />
      <div className="nhsuk-width-container app-status-bar">
        <ConnectionStatus status={chat.connection} />
      </div>
      <div className="nhsuk-width-container">
        <main className="nhsuk-main-wrapper nhsuk-main-wrapper--s" id="maincontent" tabIndex={-1}>
          <UrgentAlertBanner />
          {children}
        </main>
      </div>
      <div className="nhsuk-u-visually-hidden" aria-live="polite" aria-atomic="true">
        {chat.notice && <span key={chat.notice.id}>{chat.notice.text}</span>}
      </div>
    </>
  );
}
