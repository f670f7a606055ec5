import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles/nhsuk.scss';
import './styles/app.css';
import './styles/clinical.css';
import { App } from './App';
import { registerServiceWorker } from './serviceWorker';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Only production builds: in development the worker would serve stale modules.
if (import.meta.env.PROD) registerServiceWorker();
