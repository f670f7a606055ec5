// The IG console's own navigation; alerts pushed since sign-in show as a count.
import { SubNav } from '../../components/SubNav';
import { useClinical } from '../../state/clinical';

export function IgNav() {
  const { igAlerts } = useClinical();
  return (
    <SubNav
      label="Information governance"
      items={[
        { href: '/ig', text: 'Audit search' },
        { href: '/ig/investigations', text: 'Investigations' },
        { href: '/ig/alerts', text: 'Alerts', badge: igAlerts.length },
        { href: '/ig/alert-policy', text: 'Alert policy' },
      ]}
    />
  );
}
