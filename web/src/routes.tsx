// Every screen of the signed-in app, one entry each. A later feature adds its screen folder
// under screens/ and one line here; the header navigation and access checks follow from it.
import type { ComponentType } from 'react';
import type { OrgRole } from './api/types';
import { type Params, matchPath } from './router';
import { PolicyScreen } from './screens/admin/PolicyScreen';
import { StaffScreen } from './screens/admin/StaffScreen';
import { ConversationScreen } from './screens/conversation/ConversationScreen';
import { ConversationListScreen } from './screens/conversations/ConversationListScreen';
import { NewConversationScreen } from './screens/conversations/NewConversationScreen';
import { MeScreen } from './screens/me/MeScreen';
import { SecurityScreen } from './screens/security/SecurityScreen';

export interface RouteDef {
  path: string;
  screen: ComponentType<{ params: Params }>;
  /** Label in the header navigation; absent for screens reached from other screens. */
  nav?: string;
  /** Organisation roles that may open the screen; any signed-in user when absent. */
  roles?: readonly OrgRole[];
}

export const routes: readonly RouteDef[] = [
  { path: '/', screen: ConversationListScreen, nav: 'Conversations' },
  { path: '/conversations/new', screen: NewConversationScreen },
  { path: '/conversations/:id', screen: ConversationScreen },
  { path: '/me', screen: MeScreen, nav: 'My account' },
  { path: '/me/security', screen: SecurityScreen },
  { path: '/admin/staff', screen: StaffScreen, nav: 'Staff', roles: ['admin'] },
  { path: '/admin/policy', screen: PolicyScreen, roles: ['admin'] },
  // Coming with their features (API.md "Clinical workflow" and later issues):
  //   /patients/:id        patient timeline            screens/patient/
  //   /roles               who is on call, message a role  screens/roles/
  //   /admin/roles                                     screens/admin/
  //   /ig                  audit search, investigations (auditors)  screens/ig/
];

export function findRoute(path: string): { route: RouteDef; params: Params } | null {
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return null;
}

export function allowed(route: RouteDef, role: OrgRole | undefined): boolean {
  return !route.roles || (role !== undefined && route.roles.includes(role));
}
