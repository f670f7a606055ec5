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
import { ClinicalPolicyScreen } from './screens/admin/ClinicalPolicyScreen';
import { RolesAdminScreen } from './screens/admin/RolesAdminScreen';
import { AlertPolicyScreen } from './screens/ig/AlertPolicyScreen';
import { AlertsScreen } from './screens/ig/AlertsScreen';
import { AuditSearchScreen } from './screens/ig/AuditSearchScreen';
import { InvestigationsScreen } from './screens/ig/InvestigationsScreen';
import { PatientScreen } from './screens/patients/PatientScreen';
import { PatientsScreen } from './screens/patients/PatientsScreen';
import { RoleScreen } from './screens/roles/RoleScreen';
import { RolesScreen } from './screens/roles/RolesScreen';

export interface RouteDef {
  path: string;
  screen: ComponentType<{ params: Params }>;
  /** Label in the header navigation; absent for screens reached from other screens. */
  nav?: string;
  /** Organisation roles that may open the screen; any signed-in user when absent. */
  roles?: readonly OrgRole[];
  /** The navigation entry (its path) this screen belongs under, to mark it current. */
  section?: string;
}

export const routes: readonly RouteDef[] = [
  { path: '/', screen: ConversationListScreen, nav: 'Conversations' },
  { path: '/conversations/new', screen: NewConversationScreen },
  { path: '/conversations/:id', screen: ConversationScreen },
  { path: '/me', screen: MeScreen, nav: 'My account' },
  { path: '/me/security', screen: SecurityScreen },
  { path: '/admin/staff', screen: StaffScreen, nav: 'Staff', roles: ['admin'] },
  { path: '/admin/policy', screen: PolicyScreen, roles: ['admin'] },
  // Clinical workflow and the IG console (screens/patients, roles, admin, ig). Patient routes carry
  // the patient's id only, never an NHS number or any other identifier.
  { path: '/patients', screen: PatientsScreen, nav: 'Patients', roles: ['member', 'admin'] },
  { path: '/patients/:id', screen: PatientScreen, roles: ['member', 'admin'], section: '/patients' },
  { path: '/roles', screen: RolesScreen, nav: 'Roles' },
  { path: '/roles/:id', screen: RoleScreen, section: '/roles' },
  { path: '/admin/roles', screen: RolesAdminScreen, nav: 'Clinical setup', roles: ['admin'] },
  { path: '/admin/clinical-policy', screen: ClinicalPolicyScreen, roles: ['admin'], section: '/admin/roles' },
  { path: '/ig', screen: AuditSearchScreen, nav: 'Audit', roles: ['auditor'] },
  { path: '/ig/investigations', screen: InvestigationsScreen, roles: ['auditor'], section: '/ig' },
  { path: '/ig/investigations/open/:conversation', screen: InvestigationsScreen, roles: ['auditor'], section: '/ig' },
  { path: '/ig/alerts', screen: AlertsScreen, roles: ['auditor'], section: '/ig' },
  { path: '/ig/alert-policy', screen: AlertPolicyScreen, roles: ['auditor', 'admin'], section: '/ig' },
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
